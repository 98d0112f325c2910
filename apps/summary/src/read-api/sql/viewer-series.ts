import { sql, type Kysely } from 'kysely';

export interface ViewerSeries {
  channelId: number;
  platform: string;
  slug: string;
  /** One point per probe of the day, oldest first; `viewers` is null while the channel was offline. */
  points: Array<{ at: string; viewers: number | null; live: boolean }>;
}

/**
 * Every probe of one UTC day for each channel of a streamer, in one statement: each channel's probes are
 * a range of the `probes` primary key (channel_id, ts) inside the day's partition. `undefined` when the
 * streamer does not exist or is outside `assignedTo` (another operator's is answered as absent); a
 * streamer without channels has an empty list. `from`/`to` bound the day, half-open.
 */
export async function viewerSeries(
  db: Kysely<any>,
  options: { streamerId: number; from: Date; to: Date; assignedTo?: number },
): Promise<ViewerSeries[] | undefined> {
  const assignedTo = options.assignedTo ?? null;
  const { rows } = await sql<{
    channel_id: string | null;
    platform: string | null;
    slug: string | null;
    ts: Date | null;
    is_live: boolean | null;
    viewer_count: number | null;
  }>`
    SELECT c.id AS channel_id, c.platform, c.slug, p.ts, p.is_live, p.viewer_count
    FROM streamers s
    LEFT JOIN streamer_channels c ON c.streamer_id = s.id
    LEFT JOIN probes p ON p.channel_id = c.id AND p.ts >= ${options.from} AND p.ts < ${options.to}
    WHERE s.id = ${options.streamerId}
      AND (${assignedTo}::bigint IS NULL OR s.assigned_operator_id = ${assignedTo}::bigint)
    ORDER BY c.id, p.ts`.execute(db);
  if (rows.length === 0) return undefined;
  const series: ViewerSeries[] = [];
  for (const row of rows) {
    if (row.channel_id === null) continue;
    const channelId = Number(row.channel_id);
    let current = series[series.length - 1];
    if (current?.channelId !== channelId) {
      current = { channelId, platform: row.platform!, slug: row.slug!, points: [] };
      series.push(current);
    }
    if (row.ts === null) continue;
    current.points.push({ at: row.ts.toISOString(), viewers: row.is_live ? row.viewer_count : null, live: row.is_live === true });
  }
  return series;
}
