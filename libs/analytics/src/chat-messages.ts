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

/** A chat message as the services carry it (the database's `ChatRow` has this shape). */
export interface ChatFields {
  platform: string;
  messageId: string;
  channelId: string;
  senderId: string;
  senderUsername: string;
  content: string;
  sentAt: string;
  receivedAt: string;
  repliesTo?: string | null;
}

/** The ClickHouse row of a chat message: the one place the camelCase fields meet the column names. */
export function analyticsChatRow(m: ChatFields): AnalyticsChatRow {
  return {
    platform: m.platform,
    message_id: m.messageId,
    channel_id: m.channelId,
    sender_id: m.senderId,
    sender_username: m.senderUsername,
    content: m.content,
    sent_at: m.sentAt,
    received_at: m.receivedAt,
    replies_to: m.repliesTo ?? null,
  };
}

/** Inserts a batch as one JSONEachRow request: one part per batch, which is what MergeTree wants. */
export async function insertAnalyticsChatRows(analytics: Analytics, rows: readonly AnalyticsChatRow[]): Promise<void> {
  if (rows.length === 0) return;
  await analytics.client.insert({ table: 'chat_messages', values: rows as AnalyticsChatRow[], format: 'JSONEachRow' });
}
