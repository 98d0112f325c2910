import type { Analytics } from './client';

/** One chat row as ClickHouse stores it; same fields as Postgres `chat_messages`. */
export interface AnalyticsChatRow {
  platform: string;
  message_id: string;
  channel_id: string;
  sender_id: string;
  sender_username: string;
  content: string;
  sent_at: string;
  received_at: string;
  replies_to: string | null;
}

/** Inserts a batch as one JSONEachRow request: one part per batch, which is what MergeTree wants. */
export async function insertAnalyticsChatRows(analytics: Analytics, rows: readonly AnalyticsChatRow[]): Promise<void> {
  if (rows.length === 0) return;
  await analytics.client.insert({ table: 'chat_messages', values: rows as AnalyticsChatRow[], format: 'JSONEachRow' });
}
