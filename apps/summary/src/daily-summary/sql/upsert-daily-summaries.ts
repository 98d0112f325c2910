import { sql, type Kysely } from 'kysely';
import type { DailySummary } from '../daily-summary';

/**
 * Writes summary rows in one statement (each column one array parameter, zipped by `unnest`). A row for a
 * (day, channel) already stored is overwritten, so a rerun or a backfill of a day is idempotent; a channel
 * absent from `rows` keeps its stored row (a recompute after retention dropped the probes changes nothing).
 * `computed_at` is the statement's time. Returns how many rows were written. `rows` must not repeat a
 * (day, channel): Postgres refuses to update one row twice in a statement.
 */
export async function upsertDailySummaries(db: Kysely<any>, rows: readonly DailySummary[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof DailySummary>(key: K) => rows.map((r) => r[key]);
  const result = await sql`
    INSERT INTO daily_summaries (day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers,
                                 chat_messages, unique_chatters, gifts, gift_coins, computed_at, source)
    SELECT day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers,
           chat_messages, unique_chatters, gifts, gift_coins, now(), source
    FROM unnest(
      ${col('day')}::date[], ${col('channelId')}::bigint[], ${col('viewerHours')}::numeric[],
      ${col('liveMinutes')}::integer[], ${col('streams')}::integer[], ${col('peakViewers')}::integer[],
      ${col('avgViewers')}::numeric[], ${col('chatMessages')}::integer[], ${col('uniqueChatters')}::integer[],
      ${col('gifts')}::integer[], ${col('giftCoins')}::bigint[], ${col('source')}::text[])
      AS v (day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers,
            chat_messages, unique_chatters, gifts, gift_coins, source)
    ON CONFLICT (day, channel_id) DO UPDATE SET
      viewer_hours    = excluded.viewer_hours,
      live_minutes    = excluded.live_minutes,
      streams         = excluded.streams,
      peak_viewers    = excluded.peak_viewers,
      avg_viewers     = excluded.avg_viewers,
      chat_messages   = excluded.chat_messages,
      unique_chatters = excluded.unique_chatters,
      gifts           = excluded.gifts,
      gift_coins      = excluded.gift_coins,
      computed_at     = excluded.computed_at,
      source          = excluded.source`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
