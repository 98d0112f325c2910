import { sql, type Kysely } from 'kysely';

export interface ClaimedChannel {
  channelId: number;
  platform: string;
  platformUserId: string;
  slug: string;
  consecutiveFailures: number;
  /** When the probe was due (`next_probe_at`); the probe is for that minute. */
  dueAt: Date;
}

/**
 * The lease, in one statement and one round trip. It
 * 1. seeds a schedule row, already claimed by this replica, for every active channel that has none
 *    (ON CONFLICT DO NOTHING: when replicas race, one wins each row);
 * 2. claims up to `limit` due channels (so one call returns at most 2 × `limit`: seeded plus due) of active streamers whose hold has expired, skipping rows another
 *    replica is claiming right now (FOR UPDATE SKIP LOCKED), so concurrent replicas get disjoint sets;
 * 3. holds them until `now + holdMs`. A replica that dies releases its channels when the hold expires.
 */
export async function claimChannels(
  db: Kysely<any>,
  options: { now: Date; replica: string; limit: number; holdMs: number },
): Promise<ClaimedChannel[]> {
  const holdUntil = new Date(options.now.getTime() + options.holdMs);
  const { rows } = await sql<{
    channel_id: number;
    platform: string;
    platform_user_id: string;
    slug: string;
    consecutive_failures: number;
    next_probe_at: Date;
  }>`
    WITH seeded AS (
      INSERT INTO probe_schedule (channel_id, next_probe_at, claimed_until, claimed_by, updated_at)
      SELECT c.id, ${options.now}, ${holdUntil}, ${options.replica}, ${options.now}
      FROM streamer_channels c
      JOIN streamers s ON s.id = c.streamer_id AND s.status = 'active'
      WHERE NOT EXISTS (SELECT 1 FROM probe_schedule p WHERE p.channel_id = c.id)
      LIMIT ${options.limit}
      ON CONFLICT (channel_id) DO NOTHING
      RETURNING channel_id, consecutive_failures, next_probe_at
    ),
    due AS (
      SELECT p.channel_id
      FROM probe_schedule p
      JOIN streamer_channels c ON c.id = p.channel_id
      JOIN streamers s ON s.id = c.streamer_id AND s.status = 'active'
      WHERE p.next_probe_at <= ${options.now}
        AND (p.claimed_until IS NULL OR p.claimed_until <= ${options.now})
      ORDER BY p.next_probe_at
      LIMIT ${options.limit}
      FOR UPDATE OF p SKIP LOCKED
    ),
    claimed AS (
      UPDATE probe_schedule p
      SET claimed_until = ${holdUntil}, claimed_by = ${options.replica}, updated_at = ${options.now}
      FROM due
      WHERE p.channel_id = due.channel_id
      RETURNING p.channel_id, p.consecutive_failures, p.next_probe_at
    )
    SELECT c.id AS channel_id, c.platform, c.platform_user_id, c.slug, x.consecutive_failures, x.next_probe_at
    FROM (SELECT * FROM claimed UNION ALL SELECT * FROM seeded) x
    JOIN streamer_channels c ON c.id = x.channel_id`.execute(db);
  return rows.map((r) => ({
    channelId: Number(r.channel_id),
    platform: r.platform,
    platformUserId: r.platform_user_id,
    slug: r.slug,
    consecutiveFailures: r.consecutive_failures,
    dueAt: r.next_probe_at,
  }));
}
