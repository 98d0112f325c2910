import { sql, type Kysely } from 'kysely';

/** One probe result, as stored. */
export interface ProbeRow {
  channelId: number;
  /** The probe minute (UTC, floored). */
  ts: Date;
  isLive: boolean;
  viewerCount: number;
  /** When the live stream started, floored to the minute so one session keeps one value. */
  streamStartedAt: Date | null;
  title: string | null;
  category: string | null;
  /** Audience figures the platform gave with this probe; stored once per channel and UTC day. */
  activeSubscribers: number | null;
}

/** What happens to a claimed channel's schedule after its probe (or its failure). */
export interface ScheduleUpdate {
  channelId: number;
  nextProbeAt: Date;
  /** Set when the platform answered for this channel. */
  probedAt: Date | null;
  consecutiveFailures: number;
  isLive: boolean | null;
}

/**
 * Stores a tick's probes and moves the claimed channels' schedules forward in one transaction, so a
 * probe row exists exactly when its schedule moved past that minute. A channel whose hold expired and
 * was taken over by another replica is left to that replica (the `claimed_by` guard); its probe row,
 * if the same minute, collides on the (channel_id, ts) key and is dropped.
 * `updated_at` stays the time of the claim: the fair share counts the last minute's claims by it
 * (sql/count-due.ts).
 * Returns the probes that were new.
 */
export async function recordProbes(
  db: Kysely<any>,
  replica: string,
  probes: readonly ProbeRow[],
  schedule: readonly ScheduleUpdate[],
  /**
   * Runs inside the transaction with the probes that are new, before the commit: publishing there means
   * a probe is committed only once it is on NATS too (if the publish fails, the transaction rolls back
   * and the channel is probed again for the same minute, which NATS's msgID and the key dedupe).
   */
  beforeCommit?: (inserted: ProbeRow[]) => Promise<void>,
): Promise<ProbeRow[]> {
  return db.transaction().execute(async (tx) => {
    let inserted: ProbeRow[] = [];
    if (probes.length > 0) {
      const col = <K extends keyof ProbeRow>(key: K) => probes.map((p) => p[key]);
      const { rows } = await sql<{ channel_id: number; ts: Date }>`
        INSERT INTO probes (channel_id, ts, is_live, viewer_count, stream_started_at, title, category)
        SELECT * FROM unnest(
          ${col('channelId')}::bigint[], ${col('ts')}::timestamptz[], ${col('isLive')}::boolean[],
          ${col('viewerCount')}::integer[], ${col('streamStartedAt')}::timestamptz[], ${col('title')}::text[],
          ${col('category')}::text[])
        ON CONFLICT DO NOTHING
        RETURNING channel_id, ts`.execute(tx);
      const fresh = new Set(rows.map((r) => `${r.channel_id}:${r.ts.getTime()}`));
      inserted = probes.filter((p) => fresh.has(`${p.channelId}:${p.ts.getTime()}`));
      // The daily snapshot rides on the minute probe (same API answer, no extra call); the key keeps
      // the first of each UTC day.
      await sql`
        INSERT INTO channel_daily_stats (channel_id, day, active_subscribers, polled_at)
        SELECT channel_id, (ts AT TIME ZONE 'UTC')::date, active_subscribers, now()
        FROM unnest(${col('channelId')}::bigint[], ${col('ts')}::timestamptz[], ${col('activeSubscribers')}::integer[])
          AS v (channel_id, ts, active_subscribers)
        ON CONFLICT DO NOTHING`.execute(tx);
      // The streamer's last live sighting, and its last activity (migration 0016) when the sighting is
      // newer than any chat, webhook or operator write seen: both only move forward. A live streamer's row
      // is written once a minute here already, so this adds no write of its own.
      await sql`
        UPDATE streamers s
        SET last_live_at = v.ts,
            last_activity_kind = CASE WHEN s.last_activity_at IS NULL OR s.last_activity_at < v.ts THEN 'live' ELSE s.last_activity_kind END,
            last_activity_at = GREATEST(s.last_activity_at, v.ts)
        FROM (
          SELECT c.streamer_id, max(v.ts) AS ts
          FROM unnest(${col('channelId')}::bigint[], ${col('ts')}::timestamptz[], ${col('isLive')}::boolean[]) AS v (channel_id, ts, is_live)
          JOIN streamer_channels c ON c.id = v.channel_id
          WHERE v.is_live
          GROUP BY c.streamer_id
        ) v
        WHERE s.id = v.streamer_id AND (s.last_live_at IS NULL OR s.last_live_at < v.ts)`.execute(tx);
    }
    if (schedule.length > 0) {
      const col = <K extends keyof ScheduleUpdate>(key: K) => schedule.map((s) => s[key]);
      await sql`
        UPDATE probe_schedule p
        SET next_probe_at = v.next_probe_at,
            last_probed_at = COALESCE(v.probed_at, p.last_probed_at),
            consecutive_failures = v.failures,
            last_is_live = COALESCE(v.is_live, p.last_is_live),
            claimed_until = NULL,
            claimed_by = NULL
        FROM unnest(
          ${col('channelId')}::bigint[], ${col('nextProbeAt')}::timestamptz[], ${col('probedAt')}::timestamptz[],
          ${col('consecutiveFailures')}::integer[], ${col('isLive')}::boolean[])
          AS v (channel_id, next_probe_at, probed_at, failures, is_live)
        WHERE p.channel_id = v.channel_id AND p.claimed_by = ${replica}`.execute(tx);
    }
    if (beforeCommit && inserted.length > 0) await beforeCommit(inserted);
    return inserted;
  });
}
