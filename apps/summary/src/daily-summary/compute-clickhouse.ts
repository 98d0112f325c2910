import type { Kysely } from 'kysely';
import type { Analytics } from '@onair/analytics';
import { toDailySummaries, withGifts, type DailyAggregate, type DailySummary } from './daily-summary';
import { utcDay } from './day';
import { clickhouseChatDay } from './sql/clickhouse-chat-day';
import { clickhouseProbeDay } from './sql/clickhouse-probe-day';
import { channelKey, findChannels } from './sql/find-channels';
import { postgresGiftDay } from './sql/postgres-gift-day';
import { readLiveProbeMinutes } from './sql/read-live-probe-minutes';

/**
 * Summaries for one UTC day (`YYYY-MM-DD`) aggregated in ClickHouse: the heavy reads (every probe and chat
 * message of the day) run there; Postgres gives the cadence and maps chat's platform channel ids to
 * `streamer_channels.id`. Same rows as `computeDailySummariesPostgres` for the same data, but for `source`.
 */
export async function computeDailySummariesClickHouse(analytics: Analytics, db: Kysely<any>, day: string): Promise<DailySummary[]> {
  utcDay(day); // refuses anything but a real YYYY-MM-DD before any query
  const [cadence, probes, chat, gifts] = await Promise.all([
    readLiveProbeMinutes(db),
    clickhouseProbeDay(analytics, day),
    clickhouseChatDay(analytics, day),
    // Gifts are kept in Postgres only (a few thousand rows a day: no need to copy them to ClickHouse).
    postgresGiftDay(db, day),
  ]);
  const channels = await findChannels(
    db,
    chat.map((c) => ({ platform: c.platform, platformUserId: c.platformChannelId })),
  );
  const byChannel = new Map<number, DailyAggregate>();
  const entry = (channelId: number): DailyAggregate => {
    let aggregate = byChannel.get(channelId);
    if (!aggregate) {
      aggregate = { channelId, liveProbes: 0, viewerSum: 0, peakViewers: 0, streams: 0, chatMessages: 0, uniqueChatters: 0 };
      byChannel.set(channelId, aggregate);
    }
    return aggregate;
  };
  for (const p of probes) Object.assign(entry(p.channelId), p);
  for (const c of chat) {
    const channelId = channels.get(channelKey(c.platform, c.platformChannelId));
    // Chat of a channel we do not track: the Postgres path's join leaves it out too.
    if (channelId === undefined) continue;
    Object.assign(entry(channelId), { chatMessages: c.chatMessages, uniqueChatters: c.uniqueChatters });
  }
  return toDailySummaries(day, withGifts([...byChannel.values()], gifts), cadence, 'clickhouse');
}
