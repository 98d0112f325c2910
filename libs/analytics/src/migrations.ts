import type { Analytics } from './client';

/** ClickHouse schema changes, applied in order, each once. Names are recorded in `schema_migrations`. */
const MIGRATIONS: Array<{ name: string; statements: string[] }> = [
  {
    name: '0001-chat-messages',
    statements: [
      // ReplacingMergeTree keyed by the message identity: a row written twice (a redelivery after a crash
      // between insert and ack) collapses to one on merge, and `FINAL` collapses it at read time.
      `CREATE TABLE IF NOT EXISTS chat_messages (
        platform LowCardinality(String),
        message_id String,
        channel_id String,
        sender_id String,
        sender_username String,
        content String,
        sent_at DateTime64(3, 'UTC'),
        received_at DateTime64(3, 'UTC'),
        replies_to Nullable(String)
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(sent_at)
      ORDER BY (platform, channel_id, message_id)
      TTL toDateTime(sent_at) + INTERVAL 12 MONTH`,
    ],
  },
  {
    name: '0002-probes',
    statements: [
      // One row per channel-minute: a redelivered probe replaces itself.
      `CREATE TABLE IF NOT EXISTS probes (
        ts DateTime('UTC'),
        channel_id UInt64,
        platform LowCardinality(String),
        platform_user_id String,
        is_live Bool,
        viewer_count UInt32,
        stream_started_at Nullable(DateTime('UTC')),
        title Nullable(String),
        category Nullable(String)
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(ts)
      ORDER BY (channel_id, ts)
      TTL ts + INTERVAL 12 MONTH`,
    ],
  },
];

/** Applies the migrations not yet recorded. Every statement is idempotent, so replicas racing is harmless. */
export async function migrateAnalytics(analytics: Analytics): Promise<string[]> {
  const { client } = analytics;
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (name String, applied_at DateTime DEFAULT now())
            ENGINE = ReplacingMergeTree ORDER BY name`,
  });
  const result = await client.query({ query: 'SELECT name FROM schema_migrations FINAL', format: 'JSONEachRow' });
  const applied = new Set((await result.json<{ name: string }>()).map((r) => r.name));
  const done: string[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.name)) continue;
    for (const statement of migration.statements) await client.command({ query: statement });
    await client.insert({ table: 'schema_migrations', values: [{ name: migration.name }], format: 'JSONEachRow' });
    done.push(migration.name);
  }
  return done;
}
