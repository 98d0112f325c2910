import { sql, type Kysely } from 'kysely';
import type { DailyAggregate } from '../daily-summary';

/**
 * One UTC day's figures per channel, aggregated in Postgres in one statement: probes by
 * `probes.channel_id` (already `streamer_channels.id`), chat by the platform's channel id mapped through
 * `streamer_channels (platform, platform_user_id)`. A channel with probes or chat that day gets a row;
 * chat for a channel we do not know is left out. Both ranges are half-open, so [from, to) is the day.
 */
export async function postgresDayAggregates(db: Kysely<any>, from: Date, to: Date): Promise<DailyAggregate[]> {
  const { rows } = await sql<{
    channel_id: number | string;
    live_probes: number;
    viewer_sum: number | string;
    peak_viewers: number;
    streams: number;
    chat_messages: number;
    unique_chatters: number;
  }>`
    WITH probe_day AS (
      SELECT channel_id,
             count(*) FILTER (WHERE is_live) AS live_probes,
             sum(viewer_count) FILTER (WHERE is_live) AS viewer_sum,
             max(viewer_count) FILTER (WHERE is_live) AS peak_viewers,
             count(DISTINCT stream_started_at) FILTER (WHERE is_live) AS streams
      FROM probes
      WHERE ts >= ${from} AND ts < ${to}
      GROUP BY channel_id
    ),
    chat_day AS (
      SELECT c.id AS channel_id, count(*) AS chat_messages, count(DISTINCT m.sender_id) AS unique_chatters
      FROM chat_messages m
      JOIN streamer_channels c ON c.platform = m.platform AND c.platform_user_id = m.channel_id
      WHERE m.sent_at >= ${from} AND m.sent_at < ${to}
      GROUP BY c.id
    )
    SELECT channel_id,
           coalesce(p.live_probes, 0)::int AS live_probes,
           coalesce(p.viewer_sum, 0)::text AS viewer_sum,
           coalesce(p.peak_viewers, 0)::int AS peak_viewers,
           coalesce(p.streams, 0)::int AS streams,
           coalesce(c.chat_messages, 0)::int AS chat_messages,
           coalesce(c.unique_chatters, 0)::int AS unique_chatters
    FROM probe_day p
    FULL JOIN chat_day c USING (channel_id)
    ORDER BY channel_id`.execute(db);
  return rows.map((r) => ({
    channelId: Number(r.channel_id),
    liveProbes: r.live_probes,
    viewerSum: Number(r.viewer_sum),
    peakViewers: r.peak_viewers,
    streams: r.streams,
    chatMessages: r.chat_messages,
    uniqueChatters: r.unique_chatters,
  }));
}
