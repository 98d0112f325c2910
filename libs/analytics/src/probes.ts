import type { Analytics } from './client';

/** One probe row as ClickHouse stores it; same fields as Postgres `probes`. */
export interface AnalyticsProbeRow {
  ts: string;
  channel_id: number;
  platform: string;
  platform_user_id: string;
  is_live: boolean;
  viewer_count: number;
  stream_started_at: string | null;
  title: string | null;
  category: string | null;
}

/** Inserts a batch of probes as one JSONEachRow request. */
export async function insertAnalyticsProbes(analytics: Analytics, rows: readonly AnalyticsProbeRow[]): Promise<void> {
  if (rows.length === 0) return;
  await analytics.client.insert({ table: 'probes', values: rows as AnalyticsProbeRow[], format: 'JSONEachRow' });
}
