import type { Analytics } from '@onair/analytics';

export interface ChatDayAggregate {
  platform: string;
  /** The platform's channel id (for Kick the broadcaster user id), not `streamer_channels.id`. */
  platformChannelId: string;
  chatMessages: number;
  uniqueChatters: number;
}

/**
 * One UTC day's chat figures per platform channel, aggregated in ClickHouse. A message written twice (a
 * redelivery) repeats its id, so counting distinct ids gives the same answer as `FINAL` without merging
 * the whole month's parts at read time (measured: 0.16 s against 0.5–1.8 s over 30 days of chat).
 * Keyed by the platform's channel id: the caller maps it to `streamer_channels.id`, which lives in Postgres.
 */
export async function clickhouseChatDay(analytics: Analytics, day: string): Promise<ChatDayAggregate[]> {
  const result = await analytics.client.query({
    query: `
      SELECT platform, channel_id, uniqExact(message_id) AS chat_messages, uniqExact(sender_id) AS unique_chatters
      FROM chat_messages
      WHERE sent_at >= toDateTime64({day:Date}, 3, 'UTC') AND sent_at < toDateTime64({day:Date} + 1, 3, 'UTC')
      GROUP BY platform, channel_id`,
    query_params: { day },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ platform: string; channel_id: string; chat_messages: string | number; unique_chatters: string | number }>();
  return rows.map((r) => ({
    platform: r.platform,
    platformChannelId: r.channel_id,
    chatMessages: Number(r.chat_messages),
    uniqueChatters: Number(r.unique_chatters),
  }));
}
