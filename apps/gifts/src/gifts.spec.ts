import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { pino } from 'pino';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { connectMessaging, ensureStreams, type Messaging } from '@onair/messaging';
import { createTestTopology, startPrivateNats } from '@onair/messaging/testing';
import { createTopology, DEFAULT_STREAM_LIMITS, streamDefinitions } from '@onair/contracts';
import { createMetricsRegistry } from '@onair/service-kit';
import { waitFor } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { buildApp, type Gifts } from './app';
import { checkLedger, foldCredits } from './ledger';

/** Gifts against real Postgres and NATS. The clock is fixed: every gift falls on 2026-11-23. */
const T0 = Date.UTC(2026, 10, 23, 18, 0, 0);
const ADMIN = 'gifts-spec-admin-token-0123456789';
const PAYMENTS = 'gifts-spec-payment-secret-0123456789';
const SESSION = testSessionKeys('gifts-spec-session-secret-0123456789abc');

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let gifts: Gifts;

function build(messaging: Messaging, topology = env.topology, database = db): Gifts {
  return buildApp({
    logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
    registry: createMetricsRegistry('gifts'),
    messaging,
    topology,
    db: database,
    adminToken: ADMIN,
    session: SESSION,
    paymentWebhookSecret: PAYMENTS,
    feeBps: 2_000,
    rate: { burst: 100_000, perSecond: 100_000 },
    foldIntervalMs: 200,
    outboxSweepMs: 200,
    publishTimeoutMs: 1_000,
    now: () => T0,
  });
}

beforeAll(async () => {
  env = await createTestTopology('gifts');
  testDb = await createTestDatabase('gifts');
  db = createDb({ url: testDb.url, poolMax: 20 });
  await migrateToLatest(db.db, new Date(T0));
  gifts = build(env.messaging);
  await gifts.server.app.ready();
  await gifts.start();
});
afterAll(async () => {
  await gifts?.stop();
  await gifts?.server.app.close();
  await env?.cleanup();
  await db?.close();
  await testDb?.drop();
});

const token = (id: string, ownsRooms: string[] = []) => signSessionToken({ id, name: `name-${id}`, ownsRooms }, SESSION, { nowMs: T0 });
const inject = (options: InjectOptions, app = gifts) => app.server.app.inject(options);
const as = (user: string) => ({ authorization: `Bearer ${token(user)}` });
const admin = { authorization: `Bearer ${ADMIN}` };

async function openRoom(roomId: string, owner: string, app = gifts) {
  const res = await inject({ method: 'PUT', url: `/v1/rooms/${roomId}/gifting`, headers: { authorization: `Bearer ${token(owner, [roomId])}` }, payload: { open: true } }, app);
  expect(res.statusCode).toBe(200);
}
async function grantTo(user: string, amount: number, key = `grant-${user}-${amount}`) {
  const res = await inject({ method: 'POST', url: `/v1/wallets/${user}/grants`, headers: admin, payload: { amount, idempotencyKey: key } });
  expect(res.statusCode).toBe(200);
}
const send = (user: string, roomId: string, key: string, giftId = 'star', quantity = 1, app = gifts) =>
  inject({ method: 'POST', url: `/v1/rooms/${roomId}/gifts`, headers: as(user), payload: { giftId, quantity, idempotencyKey: key } }, app);
const balance = async (user: string) => (await inject({ method: 'GET', url: '/v1/wallet', headers: as(user) })).json().balance as number;
const giftEvents = async (roomId: string, messaging = env.messaging, topology = env.topology) => {
  const subject = topology.events.subject('onair', roomId, 'gift.sent');
  return (await messaging.jsm.streams.info(topology.events.stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
};
async function expectLedgerSound() {
  await foldCredits(db.db);
  expect(await checkLedger(db.db)).toEqual({ total: 0, unbalancedTxns: [], walletMismatches: [] });
}

describe('sending gifts', () => {
  it('sends exactly as many as the balance covers when 50 go at once, and never below zero', async () => {
    await openRoom('arena', 'streamer-a');
    await grantTo('fan-1', 250); // ten stars of 25
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send('fan-1', 'arena', `burst-${i}`)));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(40);
    expect(answers.find((a) => a.statusCode === 402)!.json()).toEqual({ error: { code: 'insufficient_funds', message: expect.any(String) } });
    expect(await balance('fan-1')).toBe(0);
    // The streamer got 80 % of 250 once the credits folded; the platform 20 %.
    await foldCredits(db.db);
    expect(await balance('streamer-a')).toBe(200);
    await waitFor(() => giftEvents('arena'), (n) => n === 10, { what: '10 room events' });
    await expectLedgerSound();
  });

  it('is one gift for ever per idempotency key, whoever retries and however often at once', async () => {
    await openRoom('arena', 'streamer-a');
    await grantTo('fan-2', 1_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => send('fan-2', 'arena', 'same-key', 'rocket')));
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([201]));
    for (const a of answers) expect(a.json()).toEqual(answers[0]!.json());
    expect(await balance('fan-2')).toBe(900);
    // A retry much later gets the first answer, not a second gift (the key is remembered for ever).
    expect((await send('fan-2', 'arena', 'same-key', 'rocket')).json()).toEqual(answers[0]!.json());
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM gifts WHERE sender_id = 'fan-2'`.execute(db.db);
    expect(rows[0]!.n).toBe(1);
    // Another user's same key is their own gift.
    await grantTo('fan-3', 100);
    expect((await send('fan-3', 'arena', 'same-key', 'rocket')).statusCode).toBe(201);
    await expectLedgerSound();
  });

  it('refuses unknown gifts, closed rooms, platform rooms and bad input with the error shape, moving nothing', async () => {
    await grantTo('fan-4', 100);
    expect((await send('fan-4', 'arena', 'k1', 'unicorn')).json().error.code).toBe('unknown_gift');
    expect((await send('fan-4', 'nobody-home', 'k2')).json().error.code).toBe('room_closed');
    expect((await send('fan-4', 'kick-123', 'k3')).statusCode).toBe(400);
    expect((await send('streamer-a', 'arena', 'k4')).json().error.code).toBe('room_closed'); // not to oneself
    for (const payload of [{ giftId: 'star', quantity: 0, idempotencyKey: 'x' }, { giftId: 'star', quantity: 1 }, { giftId: 'star', quantity: 1, idempotencyKey: 'a b' }]) {
      const res = await inject({ method: 'POST', url: '/v1/rooms/arena/gifts', headers: as('fan-4'), payload });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
    expect((await inject({ method: 'POST', url: '/v1/rooms/arena/gifts', payload: { giftId: 'star', quantity: 1, idempotencyKey: 'z' } })).statusCode).toBe(401);
    expect(await balance('fan-4')).toBe(100);
    await expectLedgerSound();
  });

  it('takes a hot room\'s gifts without waiting on its owner: 300 senders at once, every credit arrives', async () => {
    await openRoom('hot', 'star-streamer');
    const senders = Array.from({ length: 300 }, (_, i) => `hot-fan-${i}`);
    await Promise.all(senders.map((s) => grantTo(s, 5)));
    const answers = await Promise.all(senders.map((s) => send(s, 'hot', `h-${s}`, 'heart')));
    expect(answers.every((a) => a.statusCode === 201)).toBe(true);
    await foldCredits(db.db);
    expect(await balance('star-streamer')).toBe(300 * 4);
    await expectLedgerSound();
  });
});

describe('credits and refunds', () => {
  it('credits a signed payment once per provider event, refuses a bad signature', async () => {
    const body = JSON.stringify({ id: 'evt_pay_1', type: 'payment.succeeded', data: { userId: 'buyer', coins: 500 } });
    const sign = (b: string) => `sha256=${createHmac('sha256', PAYMENTS).update(b).digest('hex')}`;
    const post = (b: string, signature: string) => inject({ method: 'POST', url: '/v1/payments/webhook', payload: b, headers: { 'content-type': 'application/json', 'x-signature': signature } });
    expect((await post(body, sign(body))).statusCode).toBe(202);
    expect((await post(body, sign(body))).statusCode).toBe(202);
    expect(await balance('buyer')).toBe(500);
    const forged = await post(body.replace('500', '5000'), sign(body));
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('invalid_signature');
    expect(await balance('buyer')).toBe(500);
    await expectLedgerSound();
  });

  it('refunds a gift once: the sender gets the coins back, the recipient and the fee give them up', async () => {
    await openRoom('refunds', 'streamer-r');
    await grantTo('fan-r', 100);
    const sent = (await send('fan-r', 'refunds', 'r-1', 'rocket')).json() as { giftId: number };
    const first = await inject({ method: 'POST', url: `/v1/gifts/${sent.giftId}/refund`, headers: admin });
    expect(first.json()).toMatchObject({ status: 'refunded', senderBalance: 100 });
    expect((await inject({ method: 'POST', url: `/v1/gifts/${sent.giftId}/refund`, headers: admin })).json()).toEqual(first.json());
    expect(await balance('fan-r')).toBe(100);
    expect(await balance('streamer-r')).toBe(0);
    await expectLedgerSound();
  });
});

describe('Kick gifts', () => {
  it('records each kicks.gifted once as a platform gift, in the room leaderboard, with no wallet movement', async () => {
    const event = {
      platform: 'kick',
      eventId: 'kick-evt-1',
      type: 'kicks.gifted',
      channelId: '42',
      receivedAt: new Date(T0).toISOString(),
      data: { broadcaster: { user_id: 42 }, sender: { user_id: 7, username: 'fan' }, gift: { amount: 100, name: 'Full Send', type: 'BASIC' }, created_at: new Date(T0).toISOString() },
    };
    const subject = env.topology.events.subject('kick', '42', 'kicks.gifted');
    await env.messaging.js.publish(subject, JSON.stringify(event), { msgID: 'a' });
    await env.messaging.js.publish(subject, JSON.stringify(event), { msgID: 'b' }); // a replay JetStream no longer knows
    await waitFor(
      async () => (await env.messaging.jsm.consumers.info(env.topology.events.stream, env.topology.consumers.kickGiftsToGifts)).num_pending,
      (n) => n === 0,
      { what: 'kick gifts consumed' },
    );
    await waitFor(async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM gifts WHERE platform = 'kick'`.execute(db.db)).rows[0]!.n, (n) => n === 1, { what: 'the kick gift' });
    const board = await sql<{ sender_id: string; coins: string }>`SELECT sender_id, coins FROM gift_leaderboard WHERE platform = 'kick' AND channel_id = '42' AND period = 'day:2026-11-23'`.execute(db.db);
    expect(board.rows.map((r) => [r.sender_id, Number(r.coins)])).toEqual([['7', 100]]);
  });
});

describe('NATS down', () => {
  it('keeps sending gifts while NATS is down and delivers their room events once it is back', async () => {
    // Its own database too: the other app's outbox sweep would otherwise publish these gifts through its NATS.
    const ownDb = await createTestDatabase('gifts_outage');
    const outageDb = createDb({ url: ownDb.url, poolMax: 4 });
    await migrateToLatest(outageDb.db, new Date(T0));
    const nats = await startPrivateNats();
    const topology = createTopology('gifts_outage');
    const messaging = await connectMessaging({ url: nats.url, name: 'gifts-outage', logger: pino({ level: 'silent' }) });
    await ensureStreams(messaging.jsm, streamDefinitions(topology, { ...DEFAULT_STREAM_LIMITS, chatMaxBytes: 64 * 1024 ** 2, eventsMaxBytes: 64 * 1024 ** 2, probesMaxBytes: 64 * 1024 ** 2 }));
    const app = build(messaging, topology, outageDb);
    await app.server.app.ready();
    await app.start();
    try {
      await openRoom('outage', 'streamer-o', app);
      expect((await inject({ method: 'POST', url: '/v1/wallets/fan-o/grants', headers: admin, payload: { amount: 1_000, idempotencyKey: 'g' } }, app)).statusCode).toBe(200);
      await nats.stop();
      const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => send('fan-o', 'outage', `o-${i}`, 'star', 1, app)));
      expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201, 201, 201]);
      // Committed, waiting in the outbox.
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM gifts WHERE published_at IS NULL`.execute(outageDb.db)).rows[0]!.n).toBe(5);
      await nats.start();
      await waitFor(() => messaging.connected, (ok) => ok, { what: 'NATS back' });
      await waitFor(() => giftEvents('outage', messaging, topology).catch(() => -1), (n) => n === 5, { what: 'the 5 gift events after NATS returned', timeoutMs: 30_000 });
    } finally {
      await app.stop();
      await app.server.app.close();
      await messaging.nc.close();
      await nats.stop();
      await outageDb.close();
      await ownDb.drop();
    }
  }, 90_000);
});
