import { sql, type Kysely } from 'kysely';

/**
 * The minute's work as the fair share sees it (fair-share.ts), in one statement over the schedule of
 * active streamers' channels:
 * - `claimedLastMinute`: channels any replica claimed in (`now` − 60 s, `now`] (`updated_at` is the time of
 *   the last claim or seeding: record-probes leaves it alone), the same window each replica counts its own
 *   claims over;
 * - `dueNow`: channels due and not held, plus active channels not scheduled yet (the next claim seeds them);
 * - `overdue`: of those due, the ones due for longer than `overdueMs`.
 * One pass over `probe_schedule` (10,000 rows: a few ms); the unscheduled count uses the partial index of 0009.
 */
export async function countDue(
  db: Kysely<any>,
  options: { now: Date; overdueMs: number },
): Promise<{ claimedLastMinute: number; dueNow: number; overdue: number }> {
  const windowStart = new Date(options.now.getTime() - 60_000);
  const overdueBefore = new Date(options.now.getTime() - options.overdueMs);
  const { rows } = await sql<{ claimed: number; due: number; overdue: number; unscheduled: number }>`
    WITH due AS (
      SELECT p.next_probe_at, p.updated_at,
             p.next_probe_at <= ${options.now} AND (p.claimed_until IS NULL OR p.claimed_until <= ${options.now}) AS claimable
      FROM probe_schedule p
      JOIN streamer_channels c ON c.id = p.channel_id
      JOIN streamers s ON s.id = c.streamer_id AND s.status = 'active'
    )
    SELECT
      count(*) FILTER (WHERE updated_at > ${windowStart} AND updated_at <= ${options.now})::int AS claimed,
      count(*) FILTER (WHERE claimable)::int AS due,
      count(*) FILTER (WHERE claimable AND next_probe_at <= ${overdueBefore})::int AS overdue,
      (SELECT count(*)::int FROM streamer_channels c
         JOIN streamers s ON s.id = c.streamer_id AND s.status = 'active'
       WHERE NOT c.scheduled) AS unscheduled
    FROM due`.execute(db);
  const row = rows[0]!;
  return { claimedLastMinute: row.claimed, dueNow: row.due + row.unscheduled, overdue: row.overdue };
}
