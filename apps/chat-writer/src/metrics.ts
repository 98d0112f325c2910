import { Counter, Histogram, type Registry } from 'prom-client';

/** Metrics both sinks share, made once per registry. */
export function createWriterMetrics(registry: Registry) {
  return {
    written: new Counter({
      name: 'chat_rows_written_total',
      help: 'Chat rows written, by sink. Postgres counts new rows only (redelivered duplicates are skipped).',
      labelNames: ['sink'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'chat_write_seconds',
      help: 'Time of one batch write, in seconds, by sink.',
      labelNames: ['sink'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    chFailures: new Counter({
      name: 'ch_write_failures_total',
      help: 'ClickHouse batch writes that failed; their messages are redelivered until ClickHouse takes them.',
      registers: [registry],
    }),
  };
}

export type WriterMetrics = ReturnType<typeof createWriterMetrics>;
