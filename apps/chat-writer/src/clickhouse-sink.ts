import { analyticsChatRow, insertAnalyticsChatRows, type Analytics } from '@onair/analytics';
import type { BatchContext, JsMsg } from '@onair/messaging';
import { decodeChatBatch } from './decode';
import type { WriterMetrics } from './metrics';

/**
 * Writes chat batches to ClickHouse from its own durable consumer: while ClickHouse is down, batches fail,
 * are redelivered with backoff, and the consumer's backlog is the catch-up queue. Nothing is lost.
 */
export function createClickHouseSink(analytics: Analytics, metrics: WriterMetrics) {
  const { written, seconds, chFailures: failures } = metrics;
  return async function handle(batch: JsMsg[], context: BatchContext): Promise<void> {
    const rows = (await decodeChatBatch(batch, context)).map((d) => d.row);
    if (rows.length === 0) return;
    const stop = seconds.labels('clickhouse').startTimer();
    try {
      await insertAnalyticsChatRows(analytics, rows.map(analyticsChatRow));
      written.labels('clickhouse').inc(rows.length);
    } catch (error) {
      failures.inc();
      throw error;
    } finally {
      stop();
    }
  };
}
