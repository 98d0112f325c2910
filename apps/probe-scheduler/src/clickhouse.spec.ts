import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { connectAnalytics, dropAnalyticsDatabase, migrateAnalytics, type Analytics } from '@onair/analytics';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createKickClient } from '@onair/kick-api';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { startTcpProxy, waitFor, type TcpProxy } from '@onair/service-kit/testing';
import { buildApp, type ProbeScheduler } from './app';

/** Probes reach ClickHouse through the probes stream's durable consumer, with no gap after an outage. */
const CLICKHOUSE = new URL(process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123');
const CH_DATABASE = 'onair_test_probe_clickhouse';
const T0 = Date.parse('2026-11-23T12:00:00Z');
const ADMIN_TOKEN = 'probe-clickhouse-admin-token-0123456789';
let clock = T0;
let fake: FakeKick;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let env: Awaited<ReturnType<typeof createTestTopology>>;
let proxy: TcpProxy;
let analytics: Analytics;
let reader: Analytics;
let scheduler: ProbeScheduler;

beforeAll(async () => {
  fake = await startFakeKick();
  testDb = await createTestDatabase('probe_clickhouse');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, new Date(T0));
  env = await createTestTopology('probe-clickhouse');
  await dropAnalyticsDatabase(CLICKHOUSE.toString(), CH_DATABASE);
  proxy = await startTcpProxy({ host: CLICKHOUSE.hostname, port: Number(CLICKHOUSE.port || 8123) });
  analytics = await connectAnalytics({ url: `http://127.0.0.1:${proxy.port}`, database: CH_DATABASE, requestTimeoutMs: 5_000 });
  await migrateAnalytics(analytics);
  reader = await connectAnalytics({ url: CLICKHOUSE.toString(), database: CH_DATABASE });
  for (let i = 1; i <= 10; i++) {
    const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES (${`s${i}`}) RETURNING id`.execute(handle.db);
    await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (${rows[0]!.id}, 'kick', ${String(700 + i)}, ${`c${i}`})`.execute(handle.db);
    fake.setChannel({ broadcasterUserId: 700 + i, slug: `c${i}`, isLive: true, viewerCount: 10 * i, startedAt: new Date(T0 - 600_000).toISOString() });
  }
  scheduler = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('probe-scheduler'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    kick: createKickClient({ apiBase: fake.apiBase, oauthBase: fake.oauthBase, clientId: fake.clientId, clientSecret: fake.clientSecret, now: () => clock }),
    replica: 'solo',
    claimLimit: 100,
    holdMs: 20_000,
    adminToken: ADMIN_TOKEN,
    now: () => new Date(clock),
  });
  await scheduler.startClickHouse(analytics);
});
afterAll(async () => {
  await scheduler?.stop();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
  await analytics?.close();
  await reader?.close();
  await proxy?.close();
  await dropAnalyticsDatabase(CLICKHOUSE.toString(), CH_DATABASE);
  await fake?.close();
});

async function minutes(from: number, count: number) {
  for (let step = 0; step <= count * 12; step++) {
    clock = from + step * 5_000;
    await scheduler.tick();
  }
}
const pgRows = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM probes`.execute(handle.db)).rows[0]!.n;
const chRows = async () => {
  const result = await reader.client.query({ query: 'SELECT count() AS n FROM probes FINAL', format: 'JSONEachRow' });
  return Number((await result.json<{ n: number }>())[0]!.n);
};

describe('probes to ClickHouse', () => {
  it('stores every probe-minute in ClickHouse as in Postgres', async () => {
    await minutes(T0, 3);
    expect(await pgRows()).toBe(30);
    await waitFor(chRows, (n) => n === 30, { what: 'probes in ClickHouse' });
    const result = await reader.client.query({
      query: "SELECT channel_id, toString(ts) AS ts, viewer_count, is_live FROM probes FINAL WHERE channel_id = 1 ORDER BY ts",
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([
      { channel_id: 1, ts: '2026-11-23 12:00:00', viewer_count: 10, is_live: true },
      { channel_id: 1, ts: '2026-11-23 12:01:00', viewer_count: 10, is_live: true },
      { channel_id: 1, ts: '2026-11-23 12:02:00', viewer_count: 10, is_live: true },
    ]);
  });

  it('fills the gap once ClickHouse is back from an outage', async () => {
    await proxy.down();
    await minutes(T0 + 3 * 60_000, 3);
    expect(await pgRows()).toBe(60);
    expect(await chRows()).toBe(30);
    await proxy.up();
    await waitFor(chRows, (n) => n === 60, { what: 'ClickHouse to catch up', timeoutMs: 90_000 });
  });

  it('reports no stream-start jitter when starts are floored', async () => {
    const audit = () => scheduler.server.app.inject({ url: '/v1/audit/stream-starts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const res = await audit();
    expect(res.json().channels).toEqual([]);
    // A platform start that moves by a few seconds across a minute boundary mid-session shows up.
    await sql`UPDATE probes SET stream_started_at = stream_started_at + interval '1 minute' WHERE channel_id = 2 AND ts = '2026-11-23T12:04:00Z'`.execute(handle.db);
    const after = await audit();
    expect(after.json().channels).toEqual([{ channelId: 2, sessionStartedAt: '2026-11-23T12:00:00.000Z', distinctStarts: 2 }]);
    expect((await scheduler.server.app.inject('/metrics')).body).toContain('probe_stream_start_jitter_channels{service="probe-scheduler"} 1');
  });
});
