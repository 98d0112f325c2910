/** Which engine aggregated a summary row. */
export type SummarySource = 'postgres' | 'clickhouse';

/** One channel's figures for one UTC day: a row of `daily_summaries`. */
export interface DailySummary {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** `streamer_channels.id`. */
  channelId: number;
  /** sum(viewer_count of live probes) × cadence / 60, rounded half up to 4 decimals. */
  viewerHours: number;
  /** Live probes × cadence, in minutes. */
  liveMinutes: number;
  /** Distinct non-null `stream_started_at` among live probes (floored to the minute by the prober). */
  streams: number;
  /** Highest viewer count of a live probe; 0 when never live. */
  peakViewers: number;
  /** Mean viewer count over live probes, rounded half up to 2 decimals; 0 when never live. */
  avgViewers: number;
  chatMessages: number;
  /** Distinct senders in this channel's chat (not summable across channels). */
  uniqueChatters: number;
  /** Gifts the channel received (first-party and platform gifts; refunded ones left out). */
  gifts: number;
  /** Their coins. */
  giftCoins: number;
  source: SummarySource;
}

/**
 * What either engine aggregates for one channel and day. Integers only: the engines count and sum, and
 * `toDailySummaries` does the division and rounding once for both, so the two paths cannot drift (ClickHouse
 * rounds Float64 halves to even, `round(36.725, 2) = 36.72`; Postgres numeric rounds them away from zero).
 */
export interface DailyAggregate {
  channelId: number;
  liveProbes: number;
  /** Sum of viewer_count over live probes. */
  viewerSum: number;
  peakViewers: number;
  streams: number;
  chatMessages: number;
  uniqueChatters: number;
  /** Gifts received, and their coins (absent: none). */
  gifts?: number;
  giftCoins?: number;
}

/**
 * Adds one day's gifts to the aggregates (both engines read them from Postgres, the only place they are
 * kept); a channel with gifts and no probes or chat gets a row of its own.
 */
export function withGifts(aggregates: readonly DailyAggregate[], gifts: ReadonlyArray<{ channelId: number; gifts: number; giftCoins: number }>): DailyAggregate[] {
  const byChannel = new Map(aggregates.map((a) => [a.channelId, { ...a }]));
  for (const g of gifts) {
    const entry = byChannel.get(g.channelId) ?? { channelId: g.channelId, liveProbes: 0, viewerSum: 0, peakViewers: 0, streams: 0, chatMessages: 0, uniqueChatters: 0 };
    byChannel.set(g.channelId, { ...entry, gifts: g.gifts, giftCoins: g.giftCoins });
  }
  return [...byChannel.values()];
}

/** Turns aggregates into summary rows with the probe cadence (minutes per live probe), ordered by channel. */
export function toDailySummaries(
  day: string,
  aggregates: readonly DailyAggregate[],
  cadenceMinutes: number,
  source: SummarySource,
): DailySummary[] {
  if (!Number.isInteger(cadenceMinutes) || cadenceMinutes <= 0) {
    throw new RangeError(`probe cadence must be a positive whole number of minutes, got ${cadenceMinutes}`);
  }
  const cadence = BigInt(cadenceMinutes);
  return [...aggregates]
    .sort((a, b) => a.channelId - b.channelId)
    .map((a) => {
      const sum = BigInt(a.viewerSum);
      const live = BigInt(a.liveProbes);
      return {
        day,
        channelId: a.channelId,
        viewerHours: Number(roundDiv(sum * cadence * 10_000n, 60n)) / 10_000,
        liveMinutes: a.liveProbes * cadenceMinutes,
        streams: a.streams,
        peakViewers: a.peakViewers,
        avgViewers: live === 0n ? 0 : Number(roundDiv(sum * 100n, live)) / 100,
        chatMessages: a.chatMessages,
        uniqueChatters: a.uniqueChatters,
        gifts: a.gifts ?? 0,
        giftCoins: a.giftCoins ?? 0,
        source,
      };
    });
}

/** n / d rounded half up, exactly, for n ≥ 0 and d > 0. */
function roundDiv(n: bigint, d: bigint): bigint {
  return (2n * n + d) / (2n * d);
}
