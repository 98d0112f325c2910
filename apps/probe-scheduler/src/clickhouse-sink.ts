import { insertAnalyticsProbes, type Analytics } from '@onair/analytics';
import { compileValidator, ProbeResult } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';

const validator = compileValidator(ProbeResult);

/**
 * Writes probe results to ClickHouse from the probes stream's durable consumer. While ClickHouse is
 * down the batches fail and are redelivered; the stream holds them, so no minute goes missing.
 */
export function createProbeClickHouseSink(analytics: Analytics) {
  return async function handle(batch: JsMsg[], context: BatchContext): Promise<void> {
    const probes = await decodeBatch(batch, validator, context, 'ProbeResult');
    await insertAnalyticsProbes(
      analytics,
      probes.map(({ value }) => ({
        ts: value.ts,
        channel_id: value.channelId,
        platform: value.platform,
        platform_user_id: value.platformUserId,
        is_live: value.isLive,
        viewer_count: value.viewerCount,
        stream_started_at: value.streamStartedAt,
        title: value.title,
        category: value.category,
      })),
    );
  };
}
