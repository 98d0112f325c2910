import { sql, type Kysely } from 'kysely';

export interface StreamStartJitter {
  channelId: number;
  /** Start of the live session (its first probe minute). */
  sessionStartedAt: Date;
  /** Distinct `stream_started_at` values inside that one session: should be 1 once floored. */
  distinctStarts: number;
}

/**
 * Channels that reported more than one stream start inside one live session since `since`. A session
 * is a run of live probes in consecutive cadence slots (gaps-and-islands: `ts − n × cadence` is constant
 * along a run). Flooring to the minute should keep this empty; a row here means the platform's start
 * time jitters across minutes, which would double-count streams.
 */
export async function streamStartAudit(db: Kysely<any>, since: Date, cadenceMinutes: number): Promise<StreamStartJitter[]> {
  const { rows } = await sql<{ channel_id: number; session_started_at: Date; distinct_starts: number }>`
    WITH live AS (
      SELECT channel_id, ts, stream_started_at,
             ts - (row_number() OVER (PARTITION BY channel_id ORDER BY ts)) * make_interval(mins => ${cadenceMinutes}) AS island
      FROM probes
      WHERE is_live AND ts >= ${since}
    )
    SELECT channel_id, min(ts) AS session_started_at, count(DISTINCT stream_started_at)::int AS distinct_starts
    FROM live
    GROUP BY channel_id, island
    HAVING count(DISTINCT stream_started_at) > 1
    ORDER BY channel_id, session_started_at`.execute(db);
  return rows.map((r) => ({ channelId: Number(r.channel_id), sessionStartedAt: r.session_started_at, distinctStarts: r.distinct_starts }));
}
