import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { connectAnalytics, dropAnalyticsDatabase, migrateAnalytics, type Analytics } from '@onair/analytics';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, startTcpProxy, waitFor, type SpawnedService, type TcpProxy } from '@onair/service-kit/testing';
import { chatMessage, publishChat } from './testing/chat-fixtures';

/**
 * Faults caused for real on a chat-writer process: SIGKILL mid-burst, Postgres refusing connections for
 * 30 s, ClickHouse down and back. Every message must end up exactly once in both databases.
 */
const CLICKHOUSE = new URL(process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123');
const POSTGRES = new URL(process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/onair');
const CH_DATABASE = 'onair_test_chat_writer_faults';
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let analytics: Analytics;
let pgProxy: TcpProxy;
let chProxy: TcpProxy;
let writer: SpawnedService | undefined;
let writerPort: number;

async function startWriter(): Promise<SpawnedService> {
  const viaProxy = new URL(testDb.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(pgProxy.port);
  writer = await spawnService({
    main: MAIN,
    port: writerPort,
    env: {
      NATS_NAMESPACE: env.topology.namespace,
      DATABASE_URL: viaProxy.toString(),
      CLICKHOUSE_URL: `http://127.0.0.1:${chProxy.port}`,
      CLICKHOUSE_DATABASE: CH_DATABASE,
      CHAT_BATCH_MAX: '500',
      LOG_LEVEL: process.env['WRITER_LOG_LEVEL'] ?? 'warn',
    },
  });
  return writer;
}

beforeAll(async () => {
  env = await createTestTopology('chat-writer-faults');
  testDb = await createTestDatabase('chat_writer_faults');
  await dropAnalyticsDatabase(CLICKHOUSE.toString(), CH_DATABASE);
  pgProxy = await startTcpProxy({ host: POSTGRES.hostname, port: Number(POSTGRES.port || 5432) });
  chProxy = await startTcpProxy({ host: CLICKHOUSE.hostname, port: Number(CLICKHOUSE.port || 8123) });
  writerPort = await freePortForTests();
  db = createDb({ url: testDb.url, poolMax: 2 });
  // The fixtures are dated 2026-11-23: their month's partition is made here, from that date. The writer's
  // own migration then adds the months around the real date, which it reads from the calendar.
  await migrateToLatest(db.db, new Date('2026-11-23T00:00:00Z'));
  analytics = await connectAnalytics({ url: CLICKHOUSE.toString(), database: CH_DATABASE });
  await migrateAnalytics(analytics);
  // ClickHouse applies the tables' 12-month TTL by its own (real) clock, dropping 2026 rows as they arrive
  // once that is a year later. This throwaway database keeps them.
  await analytics.client.command({ query: `SYSTEM STOP TTL MERGES ${CH_DATABASE}.chat_messages` });
  await startWriter();
});

afterAll(async () => {
  if (process.env['DUMP_WRITER']) (await import('node:fs')).writeFileSync(process.env['DUMP_WRITER'], writer?.output() ?? '');
  await writer?.kill('SIGKILL');
  await pgProxy?.close();
  await chProxy?.close();
  await db?.close();
  await analytics?.close();
  await env?.cleanup();
  await testDb?.drop();
  await dropAnalyticsDatabase(CLICKHOUSE.toString(), CH_DATABASE);
});

const pgCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages`.execute(db.db)).rows[0]!.n;
const chCount = async () => {
  const result = await analytics.client.query({ query: 'SELECT count() AS n FROM chat_messages FINAL', format: 'JSONEachRow' });
  return Number((await result.json<{ n: number }>())[0]!.n);
};
const ackPending = async () => (await env.messaging.jsm.consumers.info(env.topology.chat.stream, 'chat-writer-pg')).num_ack_pending;
const batch = (from: number, count: number) => Array.from({ length: count }, (_, i) => chatMessage(from + i));

describe('chat-writer under faults', () => {
  it('loses and doubles nothing of a 20,000-message burst when SIGKILLed in the middle of it', async () => {
    await publishChat(env.messaging, env.topology, batch(0, 5_000));
    await waitFor(pgCount, (n) => n === 5_000, { what: 'the first 5,000 rows' });

    // Freeze Postgres traffic so the writer is caught holding unacked messages with a write in flight.
    pgProxy.hold();
    await publishChat(env.messaging, env.topology, batch(5_000, 15_000));
    await waitFor(ackPending, (n) => n > 0, { what: 'messages in flight' });
    await writer!.kill('SIGKILL');
    // What the dead writer had sent now reaches Postgres and commits; its acks never will.
    pgProxy.release();
    expect(await pgCount()).toBeLessThan(20_000);

    await startWriter();
    await waitFor(pgCount, (n) => n >= 20_000, { what: '20,000 rows in Postgres', timeoutMs: 120_000 });
    await waitFor(chCount, (n) => n >= 20_000, { what: '20,000 rows in ClickHouse', timeoutMs: 120_000 });
    await waitFor(ackPending, (n) => n === 0, { what: 'every message acked' });
    expect(await pgCount()).toBe(20_000);
    expect(await chCount()).toBe(20_000);
  });

  it('writes every row once Postgres comes back after refusing connections for 30 s mid-burst', async () => {
    await publishChat(env.messaging, env.topology, batch(20_000, 2_000));
    await pgProxy.down();
    await publishChat(env.messaging, env.topology, batch(22_000, 3_000));
    // ClickHouse has its own consumer: the Postgres outage does not hold it back.
    await waitFor(chCount, (n) => n === 25_000, { what: 'ClickHouse during the Postgres outage', timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 30_000));
    const health = await fetch(`http://127.0.0.1:${writerPort}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${writerPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await pgCount()).toBeLessThan(25_000);

    await pgProxy.up();
    await waitFor(pgCount, (n) => n >= 25_000, { what: 'all rows after the outage', timeoutMs: 120_000 });
    await waitFor(ackPending, (n) => n === 0, { what: 'every message acked' });
    expect(await pgCount()).toBe(25_000);
  });

  it('fills ClickHouse with no gap once it is back, counting the failed writes meanwhile', async () => {
    await chProxy.down();
    await publishChat(env.messaging, env.topology, batch(25_000, 3_000));
    await waitFor(pgCount, (n) => n === 28_000, { what: 'Postgres during the ClickHouse outage' });
    await waitFor(
      async () => Number((await (await fetch(`http://127.0.0.1:${writerPort}/metrics`)).text()).match(/^ch_write_failures_total\{[^}]*\} (\d+)/m)?.[1] ?? 0),
      (n) => n > 0,
      { what: 'ch_write_failures_total to count the outage' },
    );
    expect(await chCount()).toBe(25_000);

    await chProxy.up();
    await waitFor(chCount, (n) => n >= 28_000, { what: 'ClickHouse to catch up', timeoutMs: 120_000 });
    expect(await chCount()).toBe(28_000);
    const ids = await analytics.client.query({
      query: "SELECT count() AS n FROM (SELECT DISTINCT message_id FROM chat_messages) WHERE toUInt32(substring(message_id, 3)) < 28000",
      format: 'JSONEachRow',
    });
    expect(Number((await ids.json<{ n: number }>())[0]!.n)).toBe(28_000);
  });
});
