import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createKickClient } from '@onair/kick-api';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { buildApp, type ProbeScheduler } from './app';

/**
 * Replicas split the work, not whoever ticks first. The worst case for a first-come claim is replicas
 * whose ticks keep the same order (same period, fixed phase: seen in the soak as 283/19 probes): here
 * every step runs the replicas one after another in a fixed order, on a simulated clock, against real
 * Postgres, NATS (heartbeats) and a local Kick-speaking server.
 */
const T0 = Date.parse('2026-11-23T12:00:00Z');
const LIVE = 150;
const OFFLINE = 30;
const MINUTE = 60_000;
const ADMIN_TOKEN = 'probe-share-admin-token-0123456789';
let clock = T0;
let fake: FakeKick;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let env: Awaited<ReturnType<typeof createTestTopology>>;
const started: ProbeScheduler[] = [];
/** Replicas a and b run through the first two tests, as two long-running processes would. */
let a: ProbeScheduler;
let b: ProbeScheduler;

function replica(name: string): ProbeScheduler {
  const app = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('probe-scheduler'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    kick: createKickClient({
      apiBase: fake.apiBase,
      oauthBase: fake.oauthBase,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      now: () => clock,
      sleep: async () => undefined,
    }),
    replica: name,
    claimLimit: 1000,
    holdMs: 20_000,
    adminToken: ADMIN_TOKEN,
    now: () => new Date(clock),
  });
  started.push(app);
  return app;
}

/**
 * Every replica ticks once per 5 s step, always in the given order; returns the channels each claimed,
 * per simulated minute. One step more runs past the end (not counted), so the last minute's probes due in
 * its last seconds are made, as the next tick would.
 */
async function simulate(replicas: Record<string, ProbeScheduler>, from: number, minutes: number): Promise<Array<Record<string, number>>> {
  const perMinute: Array<Record<string, number>> = Array.from({ length: minutes }, () => Object.fromEntries(Object.keys(replicas).map((n) => [n, 0])));
  for (let step = 0; step <= minutes * 12; step++) {
    for (const [name, r] of Object.entries(replicas)) {
      clock = from + step * 5_000 + 200 * Object.keys(replicas).indexOf(name);
      const result = await r.tick();
      const minute = perMinute[Math.floor((clock - from) / MINUTE)];
      if (minute) minute[name]! += result.claimed;
    }
  }
  return perMinute;
}

/** Each replica's count, as a fraction off the minute's mean (0.1 = 10 % more than an even share). */
const skew = (counts: Record<string, number>) => {
  const values = Object.values(counts);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.max(...values.map((v) => Math.abs(v - mean) / mean));
};

beforeAll(async () => {
  fake = await startFakeKick();
  testDb = await createTestDatabase('probe_share');
  handle = createDb({ url: testDb.url, poolMax: 10 });
  await migrateToLatest(handle.db, new Date(T0));
  env = await createTestTopology('probe-share');
  for (let i = 1; i <= LIVE + OFFLINE; i++) {
    const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES (${`s${i}`}) RETURNING id`.execute(handle.db);
    await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (${rows[0]!.id}, 'kick', ${String(9000 + i)}, ${`share${i}`})`.execute(handle.db);
    fake.setChannel({ broadcasterUserId: 9000 + i, slug: `share${i}`, isLive: i <= LIVE, viewerCount: i });
  }
});
afterAll(async () => {
  for (const app of started) await app.stop();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
  await fake?.close();
});

describe('probe-scheduler replicas share the work', () => {
  it('two replicas ticking in a fixed order split every minute within ±25 %, from the first', async () => {
    a = replica('a');
    b = replica('b');
    const replicas = { a, b };
    // As startLoop does: listen to the others for one tick before the first claim.
    for (const r of Object.values(replicas)) await r.announce();
    const minutes = await simulate(replicas, T0, 6);
    if (process.env['SHARE_PRINT']) console.log(JSON.stringify(minutes));
    for (const [m, counts] of minutes.entries()) expect(skew(counts), `minute ${m}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(0.25);
    // Every live channel once a minute still (the share never leaves work undone).
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM probes WHERE is_live AND ts >= ${new Date(T0)} AND ts < ${new Date(T0 + 6 * MINUTE)}`.execute(handle.db);
    expect(rows[0]!.n).toBe(LIVE * 6);
  });

  it('a third replica joins: three split each minute within ±25 % from its second minute on', async () => {
    const from = T0 + 6 * MINUTE;
    const replicas = { a, b, c: replica('c') };
    // a and b carry on (their heartbeats and last minute's claims); c is new and announces once, as its
    // first tick in startLoop does. Its first minute is the handover (a and b are still over a third).
    await replicas.c.announce();
    const minutes = await simulate(replicas, from, 6);
    if (process.env['SHARE_PRINT']) console.log(JSON.stringify(minutes));
    for (const [m, counts] of minutes.slice(1).entries()) expect(skew(counts), `minute ${m + 1}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(0.25);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM probes WHERE is_live AND ts >= ${new Date(from)} AND ts < ${new Date(from + 6 * MINUTE)}`.execute(handle.db);
    expect(rows[0]!.n).toBe(LIVE * 6);
  });

  it('when one of three stops, the other two take its share at once and miss no minute', async () => {
    const from = T0 + 12 * MINUTE;
    const a = replica('a3');
    const b = replica('b3');
    const c = replica('c3');
    for (const r of [a, b, c]) await r.announce();
    await simulate({ a, b, c }, from, 2);
    await c.stop(); // says it is leaving
    const minutes = await simulate({ a, b }, from + 2 * MINUTE, 3);
    for (const [m, counts] of minutes.entries()) expect(skew(counts), `minute ${m + 2}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(0.25);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM probes WHERE is_live AND ts >= ${new Date(from)} AND ts < ${new Date(from + 5 * MINUTE)}`.execute(handle.db);
    expect(rows[0]!.n).toBe(LIVE * 5);
  });

  it('when one dies silently, its share is late by at most the overdue grace, never skipped', async () => {
    const from = T0 + 17 * MINUTE;
    const a = replica('a4');
    const b = replica('b4');
    const dead = replica('dead4');
    for (const r of [a, b, dead]) await r.announce();
    await simulate({ a, b, dead }, from, 1);
    // `dead` stops ticking without a word: the others count it for the peer timeout, and take what it
    // leaves once overdue.
    await simulate({ a, b }, from + MINUTE, 3);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM probes WHERE is_live AND ts >= ${new Date(from)} AND ts < ${new Date(from + 4 * MINUTE)}`.execute(handle.db);
    expect(rows[0]!.n).toBe(LIVE * 4);
  });
});
