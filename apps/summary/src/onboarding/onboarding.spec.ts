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

/** A metric's value (the series with `labels`, when given). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await registry.getSingleMetric(name)!.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want));
  return match?.value ?? 0;
}
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

describe('operators', () => {
  let opToken: string;
  let opId: number;
  let mine: number;
  let theirs: number;

  beforeAll(async () => {
    kick.setChannel({ broadcasterUserId: 2001, slug: 'delta' });
    kick.setChannel({ broadcasterUserId: 2002, slug: 'echo' });
    const created = await call('POST', '/v1/operators', { name: 'olga', role: 'operator' });
    expect(created.statusCode).toBe(201);
    opToken = created.json().token;
    opId = created.json().id;
    mine = (await call('POST', '/v1/streamers', { platform: 'kick', slug: 'delta', assignedOperatorId: opId })).json().id;
    theirs = (await call('POST', '/v1/streamers', { platform: 'kick', slug: 'echo' })).json().id;
    await settle();
  });

  it('shows an operator token once and stores only its SHA-256', async () => {
    expect(opToken).toMatch(/^onair_op_[A-Za-z0-9_-]{43}$/);
    const { rows } = await sql<{ hex: string }>`SELECT encode(token_sha256, 'hex') AS hex FROM operators WHERE id = ${opId}`.execute(handle.db);
    expect(rows[0]!.hex).toHaveLength(64);
    expect(rows[0]!.hex).not.toContain(opToken);
    const list = (await call('GET', '/v1/operators')).json();
    expect(list.items).toEqual([expect.objectContaining({ id: opId, name: 'olga', role: 'operator', createdBy: 'admin-token', streamers: 1 })]);
    expect(JSON.stringify(list)).not.toContain(opToken);
    expect(JSON.stringify(list)).not.toMatch(/sha256|hash/i);
    expect((await call('POST', '/v1/operators', { name: 'olga', role: 'admin' })).json().error.code).toBe('operator_exists');
  });

  it('lets an operator see and change only the streamers assigned to them', async () => {
    const list = (await call('GET', '/v1/streamers?sort=name', undefined, opToken)).json();
    expect(list.items.map((i: { id: number }) => i.id)).toEqual([mine]);
    expect(list.total).toBe(1);
    expect((await call('GET', '/v1/streamers?sort=name')).json().total).toBeGreaterThan(1);
    expect((await call('GET', `/v1/streamers/${mine}`, undefined, opToken)).statusCode).toBe(200);
    expect((await call('GET', `/v1/streamers/${theirs}`, undefined, opToken)).statusCode).toBe(404);
    expect((await call('PATCH', `/v1/streamers/${theirs}`, { notes: 'mine now' }, opToken)).statusCode).toBe(404);

    await sql`
      INSERT INTO daily_summaries (day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers, chat_messages, unique_chatters, computed_at, source)
      SELECT '2026-11-22', c.id, 1, 60, 1, 1, 1, 0, 0, now(), 'postgres' FROM streamer_channels c WHERE c.streamer_id IN (${mine}, ${theirs})`.execute(handle.db);
    const summaries = (await call('GET', '/v1/summaries?day=2026-11-22', undefined, opToken)).json();
    expect(summaries.items.map((s: { streamerId: number }) => s.streamerId)).toEqual([mine]);
  });

  it('refuses an operator the admin-only routes', async () => {
    for (const [method, url, body] of [
      ['POST', '/v1/streamers', { platform: 'kick', slug: 'echo' }],
      ['DELETE', `/v1/streamers/${mine}`, undefined],
      ['PATCH', `/v1/streamers/${mine}`, { assignedOperatorId: null }],
      ['POST', '/v1/operators', { name: 'mallory', role: 'admin' }],
      ['GET', '/v1/operators', undefined],
      ['GET', '/v1/audit', undefined],
      ['GET', '/v1/jobs', undefined],
    ] as const) {
      const res = await call(method, url, body, opToken);
      expect([url, res.statusCode, res.json().error.code]).toEqual([url, 403, 'forbidden']);
    }
    expect((await call('GET', '/v1/streamers', undefined, 'onair_op_not-a-real-token-0000000000000000000000000')).statusCode).toBe(401);
  });

  it('pauses and resumes an assigned streamer: probing stops (suspended) and its webhooks are unsubscribed, then back', async () => {
    const paused = await call('PATCH', `/v1/streamers/${mine}`, { paused: true, notes: 'on holiday' }, opToken);
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'suspended', notes: 'on holiday', subscriptions: { state: 'complete', wanted: 0, present: 0 } });
    expect(events(2001)).toEqual([]);
    const resumed = await call('PATCH', `/v1/streamers/${mine}`, { paused: false }, opToken);
    expect(resumed.json()).toMatchObject({ status: 'active', subscriptions: { state: 'complete', wanted: 9, present: 9 } });
    expect(events(2001)).toEqual(ALL);
    await settle();
  });

  it('records every write in the audit log with who, before and after, paged by cursor', async () => {
    const first = (await call('GET', '/v1/audit?limit=2')).json();
    expect(first.items).toHaveLength(2);
    expect(first.items[0]).toMatchObject({
      actor: 'olga',
      operatorId: opId,
      action: 'streamer.update',
      target: { type: 'streamer', id: String(mine) },
      before: { status: 'suspended', notes: 'on holiday' },
      after: { status: 'active', notes: 'on holiday' },
      at: '2026-11-23T12:00:00.000Z',
    });
    expect(first.items[1]).toMatchObject({ actor: 'olga', before: { status: 'active', notes: '' }, after: { status: 'suspended', notes: 'on holiday' } });
    const seen = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = (await call('GET', `/v1/audit?limit=2&cursor=${cursor}`)).json();
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    const ids = seen.map((e: { id: number }) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(await count('audit_log'));
    const actions = seen.map((e: { action: string }) => e.action).reverse();
    expect(actions).toEqual([
      'streamer.create', // alpha
      'streamer.create', // charlie
      'operator.create',
      'streamer.create', // delta
      'streamer.create', // echo
      'streamer.update',
      'streamer.update',
    ]);
    const created = seen.find((e: { action: string }) => e.action === 'operator.create');
    expect(created).toMatchObject({ actor: 'admin-token', operatorId: null, before: null, after: { name: 'olga', role: 'operator' } });
  });

  it('removes a streamer: unsubscribed, no longer probed, history kept; adding it again restores it', async () => {
    const removed = await call('DELETE', `/v1/streamers/${theirs}`);
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ status: 'archived', removed: true, subscriptions: { state: 'complete', wanted: 0, present: 0 } });
    expect(events(2002)).toEqual([]);
    expect((await call('DELETE', `/v1/streamers/${theirs}`)).json().removed).toBe(false);
    expect(await count('daily_summaries')).toBe(2);
    const back = await call('POST', '/v1/streamers', { platform: 'kick', slug: 'echo' });
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ id: theirs, status: 'active' });
    expect(events(2002)).toEqual(ALL);
    const actions = (await call('GET', `/v1/audit?targetType=streamer&targetId=${theirs}`)).json().items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['streamer.restore', 'streamer.delete', 'streamer.create']);
    await settle();
  });
});

describe('reconcile', () => {
  it('creates missing subscriptions, deletes strays and duplicates, records the drift and counts it', async () => {
    kick.setChannel({ broadcasterUserId: 3001, slug: 'foxtrot' });
    const channelId = (await call('POST', '/v1/streamers', { platform: 'kick', slug: 'foxtrot' })).json().channels[0].id;
    await settle();
    // Kick dropped two subscriptions, something else added a stray event and a second chat subscription.
    const [chat, follow] = ['chat.message.sent', 'channel.followed'].map((e) => kick.subscriptions(3001).find((s) => s.event === e)!);
    kick.dropSubscription(chat!.id);
    kick.dropSubscription(follow!.id);
    kick.addSubscription(3001, 'channel.reward.redemption.updated');
    kick.addSubscription(3001, 'kicks.gifted');
    const keptGift = kick.subscriptions(3001).find((s) => s.event === 'kicks.gifted')!.id;

    const recreatedBefore = await metric('kick_subscriptions_recreated_total', { source: 'reconcile' });
    const driftsBefore = await count('kick_subscription_drift');
    clock = new Date('2026-11-23T13:17:00Z');
    await runJob(RECONCILE_JOB, '2026-11-23T13:17:00.000Z');
    expect(events(3001)).toEqual(ALL);
    // The oldest copy of a duplicated event is the one kept.
    expect(kick.subscriptions(3001).filter((s) => s.event === 'kicks.gifted').map((s) => s.id)).toEqual([keptGift]);
    const { rows } = await sql<{ source: string; missing: string[]; strays: string[]; created: number; deleted: number }>`
      SELECT source, missing, strays, created, deleted FROM kick_subscription_drift WHERE channel_id = ${channelId}`.execute(handle.db);
    expect(rows).toEqual([
      {
        source: 'reconcile',
        missing: ['chat.message.sent', 'channel.followed'],
        strays: ['kicks.gifted', 'channel.reward.redemption.updated'].sort(),
        created: 2,
        deleted: 2,
      },
    ]);
    expect(await metric('kick_subscriptions_recreated_total', { source: 'reconcile' })).toBe(recreatedBefore + 2);
    // Every channel reconciled (alpha, charlie, delta, echo, foxtrot): 9 wanted and present each; none other drifted.
    expect(await metric('kick_subscriptions_wanted')).toBe(9 * 5);
    expect(await metric('kick_subscriptions_present')).toBe(9 * 5);
    expect(await count('kick_subscription_drift')).toBe(driftsBefore + 1);

    // A second run finds nothing to do.
    await runJob(RECONCILE_JOB, '2026-11-23T14:17:00.000Z');
    expect(await count('kick_subscription_drift')).toBe(driftsBefore + 1);
  });
});

describe('delivery watchdog', () => {
  it('resubscribes a live channel with viewers that sent no webhook for the window, once per window, and clears it when chat flows', async () => {
    kick.setChannel({ broadcasterUserId: 4001, slug: 'golf', isLive: true, viewerCount: 150 });
    kick.setChannel({ broadcasterUserId: 4002, slug: 'hotel', isLive: true, viewerCount: 150 });
    kick.setChannel({ broadcasterUserId: 4003, slug: 'india', isLive: true, viewerCount: 5 });
    const ids: number[] = [];
    for (const slug of ['golf', 'hotel', 'india']) ids.push((await call('POST', '/v1/streamers', { platform: 'kick', slug })).json().channels[0].id);
    await settle();
    clock = new Date('2026-11-23T15:00:00Z');
    // Probes: all three live for the last 40 minutes (india with 5 viewers, under the floor of 20).
    await sql`
      INSERT INTO probes (ts, channel_id, is_live, viewer_count)
      SELECT ${clock}::timestamptz - make_interval(mins => m), c.id, true, CASE WHEN c.id = ${ids[2]} THEN 5 ELSE 150 END
      FROM unnest(${ids}::bigint[]) AS c(id), generate_series(0, 40) AS m`.execute(handle.db);
    // hotel's chat keeps arriving; golf's stopped 30 minutes ago, and Kick still lists its subscriptions.
    await insertChatMessages(handle.db, [
      chatRow('4001', 'g1', '2026-11-23T14:30:00Z'),
      chatRow('4002', 'h1', '2026-11-23T14:59:00Z'),
    ]);
    kick.stopDelivering(4001);
    const before = kick.subscriptions(4001).map((s) => s.id);
    expect(before).toHaveLength(9);
    expect(kick.delivers(4001, 'chat.message.sent')).toBe(false);

    await runJob(WATCHDOG_JOB, '2026-11-23T15:00:00.000Z');
    const after = kick.subscriptions(4001);
    expect(after.map((s) => s.event).sort()).toEqual(ALL);
    expect(after.some((s) => before.includes(s.id))).toBe(false);
    expect(kick.delivers(4001, 'chat.message.sent')).toBe(true);
    const state = async () =>
      (
        await sql<{ channel_id: string; silent_since: Date | null; resubscribe_count: number }>`
          SELECT channel_id, silent_since, resubscribe_count FROM kick_subscription_state WHERE channel_id = ANY (${ids}::bigint[]) ORDER BY channel_id`.execute(handle.db)
      ).rows.map((r) => [Number(r.channel_id), r.silent_since?.toISOString() ?? null, r.resubscribe_count]);
    expect(await state()).toEqual([
      [ids[0], '2026-11-23T15:00:00.000Z', 1],
      [ids[1], null, 0],
      [ids[2], null, 0],
    ]);
    expect(await metric('kick_webhook_resubscribed_total')).toBe(1);
    expect(await metric('kick_webhook_silent_channels')).toBe(1);
    expect(await metric('kick_subscriptions_recreated_total', { source: 'watchdog' })).toBe(9);

    // Five minutes on, still silent: flagged (the alert's signal) but not resubscribed again yet.
    clock = new Date('2026-11-23T15:05:00Z');
    await probeAll(ids);
    const second = kick.subscriptions(4001).map((s) => s.id);
    await runJob(WATCHDOG_JOB, '2026-11-23T15:05:00.000Z');
    expect(kick.subscriptions(4001).map((s) => s.id)).toEqual(second);
    expect((await state())[0]).toEqual([ids[0], '2026-11-23T15:00:00.000Z', 1]);

    // Chat arrives again: the flag clears.
    await insertChatMessages(handle.db, [chatRow('4001', 'g2', '2026-11-23T15:04:00Z')]);
    clock = new Date('2026-11-23T15:10:00Z');
    await probeAll(ids);
    await runJob(WATCHDOG_JOB, '2026-11-23T15:10:00.000Z');
    expect((await state())[0]).toEqual([ids[0], null, 1]);
    expect(await metric('kick_webhook_silent_channels')).toBe(0);
  });
});

/** One probe at the clock's minute: every channel live, india (the third) under the viewer floor. */
async function probeAll(ids: number[]): Promise<void> {
  await sql`
    INSERT INTO probes (ts, channel_id, is_live, viewer_count)
    SELECT ${clock}, id, true, CASE WHEN id = ${ids[2]} THEN 5 ELSE 150 END FROM unnest(${ids}::bigint[]) AS id`.execute(handle.db);
}

function chatRow(channelId: string, messageId: string, sentAt: string) {
  return { platform: 'kick', messageId, channelId, senderId: '9', senderUsername: 'viewer', content: 'hi', sentAt, receivedAt: sentAt, repliesTo: null };
}

describe('concurrent onboarding', () => {
  it('makes one streamer and one set of subscriptions when the same slug is added by several requests at once', async () => {
    kick.setChannel({ broadcasterUserId: 5001, slug: 'juliet' });
    const before = await count('streamers');
    const answers = await Promise.all([1, 2, 3].map(() => call('POST', '/v1/streamers', { platform: 'kick', slug: 'juliet' })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(await count('streamers')).toBe(before + 1);
    await settle();
    expect(events(5001)).toEqual(ALL);
  });
});

describe("a streamer's last activity", () => {
  it("moves to an operator write's time, never back, and orders the list", async () => {
    const { rows } = await sql<{ id: string }>`SELECT streamer_id AS id FROM streamer_channels WHERE slug = 'alpha'`.execute(handle.db);
    const alpha = Number(rows[0]!.id);
    clock = new Date('2026-11-23T16:00:00Z');
    expect((await call('PATCH', `/v1/streamers/${alpha}`, { notes: 'seen at four' })).statusCode).toBe(200);
    expect((await call('GET', `/v1/streamers/${alpha}`)).json()).toMatchObject({
      lastActivityAt: '2026-11-23T16:00:00.000Z',
      lastActivity: { at: '2026-11-23T16:00:00.000Z', kind: 'operator' },
    });
    const page = (await call('GET', '/v1/streamers?limit=2')).json();
    expect(page.items[0]).toMatchObject({ id: alpha, lastActivityAt: '2026-11-23T16:00:00.000Z', lastActivity: { kind: 'operator' } });
    expect(page.items[1].lastActivityAt < '2026-11-23T16:00:00.000Z').toBe(true);

    // Chat newer than a later write with an older clock (another replica's): the write leaves it.
    await sql`UPDATE streamers SET last_activity_at = '2026-11-23T17:00:00Z', last_activity_kind = 'chat' WHERE id = ${alpha}`.execute(handle.db);
    clock = new Date('2026-11-23T16:30:00Z');
    expect((await call('PATCH', `/v1/streamers/${alpha}`, { notes: 'seen at half past four' })).statusCode).toBe(200);
    expect((await call('GET', `/v1/streamers/${alpha}`)).json().lastActivity).toEqual({ at: '2026-11-23T17:00:00.000Z', kind: 'chat' });
    // Another streamer's write at a later time puts it first.
    const other = page.items[1].id as number;
    clock = new Date('2026-11-23T18:00:00Z');
    expect((await call('PATCH', `/v1/streamers/${other}`, { notes: 'now' })).statusCode).toBe(200);
    const after = (await call('GET', '/v1/streamers?limit=2')).json();
    expect(after.items.map((i: { id: number }) => i.id)).toEqual([other, alpha]);
  });
});
