import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, insertChatMessages, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createKickClient } from '@onair/kick-api';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import type { Registry } from 'prom-client';
import { buildApp, type SummaryService } from '../app';
import { RECONCILE_JOB, WATCHDOG_JOB } from '../kick-subscriptions/jobs';
import { WANTED_KICK_EVENTS } from '../kick-subscriptions/wanted-events';

/**
 * Operators onboarding Kick channels through the API, the subscription reconciler and the delivery
 * watchdog, on real Postgres and NATS (jobs run through the durable job substrate) and the fake Kick,
 * with the clock injected.
 */
const ADMIN = 'onboarding-spec-admin-token-0123456789';
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let kick: FakeKick;
let registry: Registry;
let service: SummaryService;
let clock = new Date('2026-11-23T12:00:00Z');

beforeAll(async () => {
  env = await createTestTopology('summary-onboarding');
  testDb = await createTestDatabase('summary_onboarding');
  handle = createDb({ url: testDb.url, poolMax: 6 });
  await migrateToLatest(handle.db, clock);
  kick = await startFakeKick();
  registry = createMetricsRegistry('summary');
  service = buildApp({
    logger: pino({ level: 'silent' }),
    registry,
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    retentionDays: 90,
    worker: 'onboarding-spec',
    adminToken: ADMIN,
    now: () => clock,
    kick: createKickClient({
      apiBase: kick.apiBase,
      oauthBase: kick.oauthBase,
      clientId: kick.clientId,
      clientSecret: kick.clientSecret,
      now: () => clock.getTime(),
      sleep: async () => undefined,
      maxRetries: 1,
      // The outage tests must see Kick's own answers, not a breaker opened by an earlier test.
      breaker: { failureThreshold: 1_000, openMs: 1 },
    }),
    webhookWatchdog: { silenceMs: 15 * 60_000, minViewers: 20 },
  });
  await service.server.app.ready();
  // The job consumers only: no enqueue tick, so nothing runs but what a test requests.
  await service.jobs.start();
});
afterAll(async () => {
  await service?.jobs.stop();
  await service?.server.app.close();
  await kick?.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});
beforeEach(() => {
  kick.clearFaults();
});

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token: string = ADMIN) =>
  service.server.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as object }) });

const count = async (table: string) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(handle.db)).rows[0]!.n;

/** Waits until every requested job has run (the consumers have nothing pending or in flight). */
async function settle(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    let busy = 0;
    for (const name of [RECONCILE_JOB, WATCHDOG_JOB]) {
      const info = await env.messaging.jsm.consumers.info(env.topology.jobs.stream, env.topology.jobs.consumer(name));
      busy += info.num_pending + info.num_ack_pending;
    }
    if (busy === 0) return;
    if (Date.now() > deadline) throw new Error('jobs did not settle');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Requests one run of `name` through NATS and waits for it to succeed. */
async function runJob(name: string, periodKey: string): Promise<void> {
  await service.jobs.enqueue(name, periodKey, clock);
  await settle();
  const { rows } = await sql<{ status: string; error: string | null }>`
    SELECT status, error FROM job_runs WHERE name = ${name} AND period_key = ${periodKey} ORDER BY id DESC LIMIT 1`.execute(handle.db);
  expect(rows[0]).toEqual({ status: 'succeeded', error: null });
}

const metric = async (name: string) => (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
const events = (broadcasterUserId: number) => kick.subscriptions(broadcasterUserId).map((s) => s.event).sort();
const ALL = [...WANTED_KICK_EVENTS].sort();

describe('onboarding', () => {
  it('adds a Kick channel by slug once: 201, then 200 with the same streamer; subscribes it and leaves it to the prober', async () => {
    kick.setChannel({ broadcasterUserId: 1001, slug: 'alpha' });
    const first = await call('POST', '/v1/streamers', { platform: 'kick', slug: 'alpha', notes: 'first' });
    expect(first.statusCode).toBe(201);
    const body = first.json();
    expect(body).toMatchObject({
      displayName: 'alpha',
      status: 'active',
      notes: 'first',
      assignedOperatorId: null,
      channels: [{ platform: 'kick', platformUserId: '1001', slug: 'alpha' }],
      subscriptions: { state: 'complete', wanted: 9, present: 9 },
    });
    expect(events(1001)).toEqual(ALL);

    const again = await call('POST', '/v1/streamers', { platform: 'kick', slug: 'ALPHA' });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(body.id);
    await settle();
    expect(await count('streamers')).toBe(1);
    expect(await count('streamer_channels')).toBe(1);
    // Neither the second request nor the reconcile each one requested made a second copy.
    expect(events(1001)).toEqual(ALL);
    // The probe-scheduler's claim seeds a schedule for every active channel not yet scheduled.
    const { rows } = await sql<{ scheduled: boolean }>`SELECT scheduled FROM streamer_channels`.execute(handle.db);
    expect(rows).toEqual([{ scheduled: false }]);
    const runs = await sql<{ period_key: string; status: string }>`SELECT period_key, status FROM job_runs WHERE name = ${RECONCILE_JOB}`.execute(handle.db);
    expect(runs.rows).toEqual([{ period_key: `channel-${body.channels[0].id}@2026-11-23T12:00:00.000Z`, status: 'succeeded' }]);
  });

  it('answers 404 unknown_channel for a slug Kick does not know, creating nothing', async () => {
    const before = await count('streamers');
    const res = await call('POST', '/v1/streamers', { platform: 'kick', slug: 'nobody-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('unknown_channel');
    expect(await count('streamers')).toBe(before);
  });

  it('answers 503 while Kick is down at the lookup, with nothing created', async () => {
    kick.setChannel({ broadcasterUserId: 1002, slug: 'bravo' });
    const streamers = await count('streamers');
    const audit = await count('audit_log');
    kick.failNext(10, 503);
    const res = await call('POST', '/v1/streamers', { platform: 'kick', slug: 'bravo' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json().error.code).toBe('kick_unavailable');
    expect(await count('streamers')).toBe(streamers);
    expect(await count('audit_log')).toBe(audit);
    expect(kick.subscriptions(1002)).toEqual([]);
  });

  it('keeps a streamer whose subscriptions failed after the lookup (pending), and the requested reconcile completes them', async () => {
    kick.setChannel({ broadcasterUserId: 1003, slug: 'charlie' });
    // The lookup is answered; listing the subscriptions fails, retry included.
    kick.failNext(2, 503, { endpoint: 'subscriptions' });
    const res = await call('POST', '/v1/streamers', { platform: 'kick', slug: 'charlie' });
    expect(res.statusCode).toBe(201);
    expect(res.json().subscriptions).toEqual({ state: 'pending', wanted: 0, present: null });
    await settle();
    expect(events(1003)).toEqual(ALL);
    const state = await sql<{ wanted: number; present: number }>`
      SELECT wanted, present FROM kick_subscription_state WHERE channel_id = ${res.json().channels[0].id}`.execute(handle.db);
    expect(state.rows).toEqual([{ wanted: 9, present: 9 }]);
  });
});
