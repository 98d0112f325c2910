import { commonConfig, int, oneOf, optionalUrl, parseConfig, str, url } from '@onair/service-kit';

const shape = {
  ...commonConfig(8085),
  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/onair', protocols: ['postgres', 'postgresql'] }),
  /** Postgres connections per replica; each batch uses one. */
  DB_POOL_MAX: int({ default: 4, min: 1 }),
  /** ClickHouse HTTP URL; set it empty to run without ClickHouse. */
  CLICKHOUSE_URL: optionalUrl({ default: 'http://127.0.0.1:8123', protocols: ['http', 'https'] }),
  CLICKHOUSE_DATABASE: str({ default: 'onair' }),
  /** Most messages written in one statement (chosen from `npm run bench:chat`, see BENCHMARKS.md). */
  CHAT_BATCH_MAX: int({ default: 2000, min: 1, max: 5000 }),
  /** Longest a batch waits for more messages after its first, in ms: the added latency of a quiet room. */
  CHAT_BATCH_WAIT_MS: int({ default: 50, min: 0, max: 10_000 }),
  /** Batches written at once per replica: one is written while the next is gathered. */
  CHAT_WRITE_CONCURRENCY: int({ default: 2, min: 1, max: 16 }),
  /**
   * How a batch reaches Postgres: COPY (straight in; through a staging table with ON CONFLICT only when
   * the batch repeats stored rows) or one `INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING`.
   * COPY drained ~13 % faster in `npm run bench:chat`.
   */
  CHAT_WRITE_METHOD: oneOf(['copy', 'unnest'] as const, { default: 'copy' }),
};

export type ChatWriterConfig = ReturnType<typeof parseChatWriterConfig>;

export function parseChatWriterConfig(env: Record<string, string | undefined>) {
  return parseConfig(shape, env);
}
