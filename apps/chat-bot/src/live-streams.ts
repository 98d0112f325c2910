import { sql, type Kysely } from 'kysely';

/** One broadcast of a channel: clips are placed by their offset from `startedAt`. */
export interface LiveStream {
  id: number;
  startedAt: Date;
}

/**
 * Records a stream start as its platform announced it. A start also ends any earlier stream of the channel
 * still open (a missed end event must not make the next stream's clips count from the old start).
 */
export async function recordStreamStart(db: Kysely<any>, platform: string, channelId: string, startedAt: Date, source: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`
      UPDATE live_streams SET ended_at = ${startedAt}
      WHERE platform = ${platform} AND channel_id = ${channelId} AND ended_at IS NULL AND started_at < ${startedAt}`.execute(trx);
    await sql`
      INSERT INTO live_streams (platform, channel_id, started_at, source)
      VALUES (${platform}, ${channelId}, ${startedAt}, ${source})
      ON CONFLICT (platform, channel_id, started_at) DO NOTHING`.execute(trx);
  });
}

/** Records a stream end: the open stream of the channel that started before `endedAt` is closed. */
export async function recordStreamEnd(db: Kysely<any>, platform: string, channelId: string, endedAt: Date): Promise<void> {
  await sql`
    UPDATE live_streams SET ended_at = ${endedAt}
    WHERE platform = ${platform} AND channel_id = ${channelId} AND ended_at IS NULL AND started_at <= ${endedAt}`.execute(db);
}

/**
 * The stream that was on air at `at` (the command's own sent time): the latest announced start at or before
 * it, not ended before it. Without one, a Kick channel's probes may know the start (floored to the minute,
 * within the last 10 minutes of probes): it is recorded as a stream of source `probe`.
 */
export async function streamAt(db: Kysely<any>, platform: string, channelId: string, at: Date): Promise<LiveStream | undefined> {
  const announced = await sql<{ id: string; started_at: Date }>`
    SELECT id, started_at FROM live_streams
    WHERE platform = ${platform} AND channel_id = ${channelId} AND started_at <= ${at} AND (ended_at IS NULL OR ended_at >= ${at})
    ORDER BY started_at DESC LIMIT 1`.execute(db);
  const found = announced.rows[0];
  if (found) return { id: Number(found.id), startedAt: found.started_at };
  if (platform !== 'kick') return undefined;

  const probed = await sql<{ stream_started_at: Date }>`
    SELECT p.stream_started_at FROM probes p
    JOIN streamer_channels sc ON sc.id = p.channel_id
    WHERE sc.platform = 'kick' AND sc.platform_user_id = ${channelId}
      AND p.ts BETWEEN ${new Date(at.getTime() - 10 * 60_000)} AND ${at}
      AND p.is_live AND p.stream_started_at IS NOT NULL AND p.stream_started_at <= ${at}
    ORDER BY p.ts DESC LIMIT 1`.execute(db);
  const start = probed.rows[0]?.stream_started_at;
  if (!start) return undefined;
  const { rows } = await sql<{ id: string }>`
    INSERT INTO live_streams (platform, channel_id, started_at, source) VALUES (${platform}, ${channelId}, ${start}, 'probe')
    ON CONFLICT (platform, channel_id, started_at) DO UPDATE SET source = live_streams.source
    RETURNING id`.execute(db);
  return { id: Number(rows[0]!.id), startedAt: start };
}
