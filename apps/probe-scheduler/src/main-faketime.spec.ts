import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';

/**
 * The real probe-scheduler process with its clock moved by faketime to 2028-02-29 23:59:50: the probe
 * minutes it floors to, the stream start it floors, the partitions and days its probes land in across
 * midnight. The process alone decides these times (the claim compares the `now` it passes; Postgres'
 * own clock, which stays real, is only used for bookkeeping columns).
 */
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
// Channel 60 is probed at second 0 of its minute (offset (60 × 7919 mod 60) s = 0), so its second probe
// falls due at midnight exactly.
const CHANNEL = 60;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let nats: Awaited<ReturnType<typeof createTestTopology>>;
let handle: Db;
let fake: FakeKick;
let proc: SpawnedService | undefined;

beforeAll(async () => {
  fake = await startFakeKick();
  testDb = await createTestDatabase('probe_scheduler_faketime');
  nats = await createTestTopology('probe-faketime');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2028-02-29T23:59:50Z'));
  const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name, status) VALUES ('leap', 'active') RETURNING id`.execute(handle.db);
  await sql`
    INSERT INTO streamer_channels (id, streamer_id, platform, platform_user_id, slug)
    VALUES (${CHANNEL}, ${rows[0]!.id}, 'kick', '6060', 'leap')`.execute(handle.db);
  fake.setChannel({ broadcasterUserId: 6060, slug: 'leap', isLive: true, viewerCount: 29, startedAt: '2028-02-29T23:58:59.999Z', title: 'leap night' });
});
afterAll(async () => {
  await proc?.kill('SIGKILL');
  await handle?.close();
  await nats?.cleanup();
  await testDb?.drop();
  await fake?.close();
});

describe('probe-scheduler process under faketime', () => {
  it('at 2028-02-29 23:59:50 probes the leap day’s last minute and the first of March, each in its month', async () => {
    const port = await freePortForTests();
    proc = await spawnService({
      main: MAIN,
      port,
      fakeTime: { at: '2028-02-29 23:59:50' },
      env: {
        NATS_NAMESPACE: nats.topology.namespace,
        DATABASE_URL: testDb.url,
        CLICKHOUSE_URL: '',
        LOG_LEVEL: 'warn',
        KICK_API_BASE: fake.apiBase,
        KICK_OAUTH_BASE: fake.oauthBase,
        KICK_CLIENT_ID: fake.clientId,
        KICK_CLIENT_SECRET: fake.clientSecret,
        PROBE_TICK_MS: '500',
        PROBE_TICK_JITTER_MS: '0',
        ADMIN_TOKEN: 'faketime-spec-admin-token-0123456789',
      },
    });
    const probes = async () =>
      (
        await sql<{ ts: Date; partition: string; stream_started_at: Date | null; viewer_count: number }>`
          SELECT ts, tableoid::regclass::text AS partition, stream_started_at, viewer_count FROM probes
          WHERE channel_id = ${CHANNEL} ORDER BY ts`.execute(handle.db)
      ).rows.map((r) => ({ ts: r.ts.toISOString(), partition: r.partition, streamStartedAt: r.stream_started_at?.toISOString() ?? null, viewers: r.viewer_count }));
    const rows = await waitFor(probes, (r) => r.length >= 2, { what: 'probes on both sides of midnight', timeoutMs: 40_000 });
    expect(rows.slice(0, 2)).toEqual([
      { ts: '2028-02-29T23:59:00.000Z', partition: 'probes_2028_02', streamStartedAt: '2028-02-29T23:58:00.000Z', viewers: 29 },
      { ts: '2028-03-01T00:00:00.000Z', partition: 'probes_2028_03', streamStartedAt: '2028-02-29T23:58:00.000Z', viewers: 29 },
    ]);
    // The daily snapshot keys each probe's UTC day.
    const { rows: days } = await sql<{ day: string }>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day FROM channel_daily_stats WHERE channel_id = ${CHANNEL} ORDER BY day`.execute(handle.db);
    expect(days.map((d) => d.day)).toEqual(['2028-02-29', '2028-03-01']);
    // The same minutes on NATS, deduplicated by channel and minute.
    const published = [];
    for (const seq of [1, 2]) {
      const stored = await nats.messaging.jsm.streams.getMessage(nats.topology.probes.stream, { seq });
      published.push(stored && { msgId: stored.header.get('Nats-Msg-Id'), ts: stored.json<{ ts: string }>().ts });
    }
    expect(published.map((p) => p?.ts)).toEqual(['2028-02-29T23:59:00.000Z', '2028-03-01T00:00:00.000Z']);
    expect(new Set(published.map((p) => p?.msgId)).size).toBe(2);
    expect(await proc.kill('SIGTERM'), proc.output()).toBe(0);
    proc = undefined;
  });
});
