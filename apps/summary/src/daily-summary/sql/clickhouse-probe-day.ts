import type { Analytics } from '@onair/analytics';

export interface ProbeDayAggregate {
  /** `streamer_channels.id` (the ClickHouse probes carry it). */
  channelId: number;
  liveProbes: number;
  viewerSum: number;
  peakViewers: number;
  streams: number;
}

/**
 * One UTC day's probe figures per channel, aggregated in ClickHouse. `FINAL` collapses a probe delivered
 * twice (ReplacingMergeTree on channel_id, ts) so it counts once, as the Postgres key guarantees there.
 * The day travels as a query parameter; the range is half-open in UTC.
 */
export async function clickhouseProbeDay(analytics: Analytics, day: string): Promise<ProbeDayAggregate[]> {
  const result = await analytics.client.query({
    query: `
      SELECT channel_id,
             countIf(is_live) AS live_probes,
             sumIf(viewer_count, is_live) AS viewer_sum,
             maxIf(viewer_count, is_live) AS peak_viewers,
             uniqExactIf(stream_started_at, is_live AND stream_started_at IS NOT NULL) AS streams
      FROM probes FINAL
      WHERE ts >= toDateTime({day:Date}, 'UTC') AND ts < toDateTime({day:Date} + 1, 'UTC')
      GROUP BY channel_id
      ORDER BY channel_id`,
    query_params: { day },
    format: 'JSONEachRow',
  });
  // 64-bit integers arrive as JSON strings (ClickHouse quotes them by default).
  const rows = await result.json<Record<'channel_id' | 'live_probes' | 'viewer_sum' | 'peak_viewers' | 'streams', string | number>>();
  return rows.map((r) => ({
    channelId: Number(r.channel_id),
    liveProbes: Number(r.live_probes),
    viewerSum: Number(r.viewer_sum),
    peakViewers: Number(r.peak_viewers),
    streams: Number(r.streams),
  }));
}
