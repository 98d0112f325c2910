import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createKickClient, type KickClient } from '@onair/kick-api';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { buildApp, type ProbeScheduler } from './app';
import { claimChannels } from './sql/claim-channels';
import { runProbeTick, type ChannelSource } from './probe-tick';
import { createProbeMetrics } from './metrics';
import { Registry } from 'prom-client';

/**
 * Replicas side by side over simulated minutes: the clock is injected, so ten minutes of ticks every
 * 5 s (with the replicas' ticks interleaved at random) run in seconds against one database and a local
 * Kick-speaking server.
 */
const T0 = Date.parse('2026-11-23T12:00:00Z');
const LIVE = 24;
const OFFLINE = 8;
const ADMIN_TOKEN = 'probe-replicas-admin-token-0123456789';
let clock = T0;
let fake: FakeKick;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let env: Awaited<ReturnType<typeof createTestTopology>>;

function replica(name: string, kick?: ChannelSource, claimLimit = 10): ProbeScheduler {
  return buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('probe-scheduler'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    kick: kick ?? kickClient(),
    replica: name,
    claimLimit,
    holdMs: 20_000,
    adminToken: ADMIN_TOKEN,
    now: () => new Date(clock),
  });
}

function kickClient(): KickClient {
  return createKickClient({
    apiBase: fake.apiBase,
    oauthBase: fake.oauthBase,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    maxRetries: 2,
    breaker: { failureThreshold: 3, openMs: 30_000 },
    now: () => clock,
    sleep: async () => undefined,
  });
}

/**
 * Runs every replica's tick at each 5 s step from `from` for `minutes` (and one step past, so probes due
 * in the last seconds of the last minute run), in a random order per step.
 */
async function simulate(replicas: ProbeScheduler[], from: number, minutes: number): Promise<void> {
  for (let step = 0; step <= minutes * 12; step++) {
    clock = from + step * 5_000 + Math.floor(Math.random() * 1_000);
    await Promise.all([...replicas].sort(() => Math.random() - 0.5).map((r) => r.tick()));
  }
}

const perMinute = async (fromMs: number, toMs: number) =>
  (
    await sql<{ channel_id: number; minutes: number; rows: number }>`
      SELECT channel_id, count(DISTINCT ts)::int AS minutes, count(*)::int AS rows
      FROM probes WHERE is_live AND ts >= ${new Date(fromMs)} AND ts < ${new Date(toMs)}
      GROUP BY channel_id`.execute(handle.db)
  ).rows;

beforeAll(async () => {
  fake = await startFakeKick();
  testDb = await createTestDatabase('probe_replicas');
  handle = createDb({ url: testDb.url, poolMax: 10 });
  await migrateToLatest(handle.db, new Date(T0));
  env = await createTestTopology('probe-replicas');
  // 24 live and 8 offline channels of active streamers, plus 4 of archived or suspended ones.
  for (let i = 1; i <= LIVE + OFFLINE + 4; i++) {
    const status = i > LIVE + OFFLINE ? (i % 2 ? 'archived' : 'suspended') : 'active';
    const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name, status) VALUES (${`s${i}`}, ${status}) RETURNING id`.execute(handle.db);
    await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (${rows[0]!.id}, 'kick', ${String(5000 + i)}, ${`slug${i}`})`.execute(handle.db);
    fake.setChannel({
      broadcasterUserId: 5000 + i,
      slug: `slug${i}`,
      isLive: i <= LIVE || i > LIVE + OFFLINE,
      viewerCount: 100 + i,
      startedAt: new Date(T0 - 3_600_000 + 17_000).toISOString(),
      title: `stream ${i}`,
      category: { id: 1, name: 'Just Chatting' },
      activeSubscribersCount: 7 * i,
    });
  }
});
afterAll(async () => {
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
  await fake?.close();
});

describe('probe-scheduler replicas', () => {
  it('with two, then three replicas: every live channel once per minute, never twice, archived never', async () => {
    await simulate([replica('a'), replica('b')], T0, 5);
    await simulate([replica('a'), replica('b'), replica('c')], T0 + 5 * 60_000, 5);
    const rows = await perMinute(T0, T0 + 10 * 60_000);
    expect(rows).toHaveLength(LIVE);
    for (const row of rows) expect(row).toMatchObject({ minutes: 10, rows: 10 });

    const { rows: foreign } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM probes p JOIN streamer_channels c ON c.id = p.channel_id
      JOIN streamers s ON s.id = c.streamer_id WHERE s.status <> 'active'`.execute(handle.db);
    expect(foreign[0]!.n).toBe(0);
    const asked = new Set(fake.requests.flatMap((r) => r.ids ?? []));
    for (let i = LIVE + OFFLINE + 1; i <= LIVE + OFFLINE + 4; i++) expect(asked.has(5000 + i)).toBe(false);

    // The prober keeps each streamer's last live sighting (the admin list sorts by it).
    const { rows: seen } = await sql<{ n: number; latest: Date }>`
      SELECT count(*)::int AS n, max(last_live_at) AS latest FROM streamers WHERE last_live_at IS NOT NULL`.execute(handle.db);
    expect(seen[0]).toEqual({ n: LIVE, latest: new Date(T0 + 9 * 60_000) });
    // Stream starts are floored to the minute, so one session has one start.
    const { rows: starts } = await sql<{ n: number }>`SELECT count(DISTINCT stream_started_at)::int AS n FROM probes WHERE is_live`.execute(handle.db);
    expect(starts[0]!.n).toBe(1);
    // The daily snapshot: one row per channel for the day, from the first probe.
    const { rows: daily } = await sql<{ n: number; subs: number }>`
      SELECT count(*)::int AS n, max(active_subscribers)::int AS subs FROM channel_daily_stats WHERE day = '2026-11-23'`.execute(handle.db);
    expect(daily[0]).toEqual({ n: LIVE + OFFLINE, subs: 7 * (LIVE + OFFLINE) });
    // Offline channels are probed at the slower cadence: every 5 minutes, twice in 10.
    const { rows: offline } = await sql<{ n: number }>`SELECT max(c)::int AS n FROM (SELECT count(*) AS c FROM probes WHERE NOT is_live GROUP BY channel_id) x`.execute(handle.db);
    expect(offline[0]!.n).toBe(2);
  });

  it('publishes each probe-minute once on NATS', async () => {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM probes`.execute(handle.db);
    const info = await env.messaging.jsm.streams.info(env.topology.probes.stream);
    expect(info.state.messages).toBe(rows[0]!.n);
    const last = await env.messaging.jsm.streams.getMessage(env.topology.probes.stream, { last_by_subj: env.topology.probes.subject('kick', '1') });
    expect(last?.json()).toMatchObject({ platform: 'kick', channelId: 1, platformUserId: '5001', isLive: true, viewerCount: 101 });
  });

  it('lets the others take over a replica that died holding channels, within one cadence', async () => {
    const from = T0 + 10 * 60_000;
    clock = from;
    // "dead" claims everything that is due and is never heard from again.
    const taken = await claimChannels(handle.db, { now: new Date(from + 59_000), replica: 'dead', limit: 1000, holdMs: 20_000 });
    expect(taken.length).toBeGreaterThan(0);
    const survivors = [replica('b'), replica('c')];
    await simulate(survivors, from + 60_000, 2);
    const rows = await perMinute(from + 60_000, from + 120_000);
    expect(rows).toHaveLength(LIVE);
  });

  it('backs off, opens the breaker and keeps the schedule sane when Kick fails, then recovers', async () => {
    const from = T0 + 20 * 60_000;
    const survivors = [replica('b'), replica('c')];
    fake.failNext(400, 500);
    await simulate(survivors, from, 2);
    const { rows: held } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM probe_schedule WHERE claimed_by IS NOT NULL`.execute(handle.db);
    expect(held[0]!.n).toBe(0);
    const { rows: failing } = await sql<{ n: number }>`SELECT min(consecutive_failures)::int AS n FROM probe_schedule`.execute(handle.db);
    expect(failing[0]!.n).toBeGreaterThan(0);
    expect(await perMinute(from, from + 2 * 60_000)).toEqual([]);

    fake.clearFaults();
    // A minute past the window checked: channel 1 is due at :59, and its probe for minute 41 runs at 42:00-ish;
    // on the simulation's very last step a replica's fair share could defer it, and nothing came after (CI).
    await simulate(survivors, from + 2 * 60_000, 41);
    const recovered = await perMinute(from + 40 * 60_000, from + 42 * 60_000);
    expect(recovered).toHaveLength(LIVE);
    for (const row of recovered) expect(row).toMatchObject({ minutes: 2, rows: 2 });
  });

  it('moves the deadman gauge and the written counter', async () => {
    const r = replica('metrics');
    clock = T0 + 70 * 60_000;
    await r.tick();
    const metrics = await (await r.server.app.inject('/metrics')).body;
    expect(metrics).toMatch(new RegExp(`probe_last_success_timestamp_seconds\\{service="probe-scheduler"\\} ${clock / 1000}`));
    expect(metrics).toMatch(/probes_written_total\{service="probe-scheduler"\} [1-9]/);
  });

  it('commits no probe that NATS did not store, and records it when the retry can publish', async () => {
    const from = T0 + 80 * 60_000;
    let natsDown = true;
    const published: number[] = [];
    const deps = {
      db: handle.db,
      kick: kickClient(),
      publish: async (probes: { channelId: number }[]) => {
        if (natsDown) throw new Error('nats down');
        published.push(...probes.map((p) => p.channelId));
      },
      replica: 'p',
      claimLimit: 100,
      holdMs: 20_000,
    adminToken: ADMIN_TOKEN,
      logger: pino({ level: 'silent' }),
      metrics: createProbeMetrics(new Registry()),
    };
    const count = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM probes WHERE ts >= ${new Date(from)}`.execute(handle.db)).rows[0]!.n;
    clock = from + 30_000;
    await expect(runProbeTick(deps, new Date(clock))).rejects.toThrow('nats down');
    expect(await count()).toBe(0);
    natsDown = false;
    clock = from + 51_000; // the failed claim's hold has expired
    await runProbeTick(deps, new Date(clock));
    expect(await count()).toBe(LIVE + OFFLINE);
    expect(published.sort((a, b) => a - b)).toEqual(Array.from({ length: LIVE + OFFLINE }, (_, i) => i + 1));
  });

  it('backs off only the channels of a chunk Kick failed, and probes the rest', async () => {
    // 60 more live channels: two chunks of ids (50 + the rest).
    for (let i = 100; i < 160; i++) {
      const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES (${`bulk${i}`}) RETURNING id`.execute(handle.db);
      await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (${rows[0]!.id}, 'kick', ${String(5000 + i)}, ${`bulk${i}`})`.execute(handle.db);
      fake.setChannel({ broadcasterUserId: 5000 + i, slug: `bulk${i}`, isLive: true, viewerCount: 1 });
    }
    fake.clearFaults();
    // Kick fails every call for the chunk holding channel 5001, and answers the others.
    let failing = false;
    const real = kickClient();
    const flaky: ChannelSource = {
      getChannels: async (ids) => {
        if (failing && ids.includes(5001)) throw new Error('Kick answered 500 four times');
        return real.getChannels(ids);
      },
    };
    // One claim of all ~92 channels: two chunks of ids for Kick, 50 and the rest.
    const r = replica('chunks', flaky, 500);
    const from = T0 + 100 * 60_000;
    clock = from;
    await r.tick();
    failing = true;
    clock = from + 60_000 + 59_000;
    const result = await r.tick();
    const { rows: backingOff } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM probe_schedule WHERE consecutive_failures > 0`.execute(handle.db);
    // More than one chunk was claimed; only the failed one's channels back off, the rest are probed.
    expect(result.claimed).toBeGreaterThan(50);
    expect(result.failed).toBe(backingOff[0]!.n);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.failed).toBeLessThanOrEqual(50);
    expect(result.probed).toBe(result.claimed - result.failed);
  });
});
