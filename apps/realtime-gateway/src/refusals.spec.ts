import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import Pusher from 'pusher';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry, createRateLimiter } from '@onair/service-kit';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { createDb, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { buildApp, type Gateway } from './app';

/**
 * What the gateway's public routes refuse, and how: rate limits per user and per client address (behind
 * a trusted proxy too), bounded history cursors, platform rooms that have no media room, and every answer
 * in the one error shape. Through `app.inject` on a real NATS namespace; nothing here needs Soketi (the
 * Pusher SDK only signs).
 */
const SESSION = testSessionKeys('gateway-refusals-secret-0123456789abcdef');
const LIVEKIT = { url: 'wss://livekit.example.test', apiKey: 'lk-key', apiSecret: 'lk-secret-0123456789abcdef0123456789', ttlS: 600 };
const APP = { appId: 'refusals', key: 'refusals-key', secret: 'refusals-secret' };

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
const built: Gateway[] = [];

function build(options: { auth?: { burst: number; perSecond: number }; history?: { burst: number; perSecond: number }; trustProxy?: string[] } = {}): Gateway {
  const gateway = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('realtime-gateway'),
    messaging: env.messaging,
    topology: env.topology,
    pusher: new Pusher({ ...APP, host: '127.0.0.1', port: '1', useTLS: false }),
    session: SESSION,
    rateLimiter: createRateLimiter(options.auth ?? { burst: 1000, perSecond: 100 }),
    historyRateLimiter: createRateLimiter(options.history ?? { burst: 1000, perSecond: 100 }),
    ...(options.trustProxy ? { http: { trustProxy: options.trustProxy } } : {}),
    coalesceWindowMs: 50,
    pusherApp: { key: APP.key, secret: APP.secret },
    presenceWindowMs: 100,
    page: { pusher: { key: APP.key, wsHost: '127.0.0.1', wsPort: 1, forceTLS: false } },
    livekit: LIVEKIT,
    db: handle,
  });
  built.push(gateway);
  return gateway;
}

beforeAll(async () => {
  env = await createTestTopology('gateway-refusals');
  testDb = await createTestDatabase('gateway_refusals');
  handle = createDb({ url: testDb.url, poolMax: 2 });
});
afterAll(async () => {
  for (const gateway of built) await gateway.server.app.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

const token = (id: string, ownsRooms: string[] = []) => signSessionToken({ id, name: id, ownsRooms }, SESSION);
type Reply = { statusCode: number; body: string; json(): { error: { code: string; message: string } } };

function expectError(res: Reply, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

const auth = (gateway: Gateway, headers: Record<string, string>) =>
  gateway.server.app.inject({
    method: 'POST',
    url: '/pusher/auth',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: 'socket_id=123.456&channel_name=presence-room-r9',
  });

describe('rate limits', () => {
  it('limits the auth routes per signed-in user: one user at the limit does not hold back another', async () => {
    const gateway = build({ auth: { burst: 2, perSecond: 1 } });
    const alice = { authorization: `Bearer ${token('alice')}` };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await auth(gateway, alice)).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    // Same address (inject: 127.0.0.1), another user: their own bucket.
    expect((await auth(gateway, { authorization: `Bearer ${token('bob')}` })).statusCode).toBe(200);
    // The join and user-auth routes draw on the same per-user budget.
    expectError(await gateway.server.app.inject({ method: 'POST', url: '/v1/rooms/stage/join', headers: alice }), 429, 'rate_limited');
    const limited = await gateway.server.app.inject({
      method: 'POST',
      url: '/pusher/user-auth',
      headers: { ...alice, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'socket_id=1.2',
    });
    expectError(limited, 429, 'rate_limited');
    expect(limited.headers['retry-after']).toBe('1');
  });

  it('charges requests without a valid session to the client address, so forged tokens are limited too', async () => {
    const gateway = build({ auth: { burst: 2, perSecond: 1 } });
    const forged = signSessionToken({ id: 'mallory', name: 'M' }, testSessionKeys('not-our-secret-0123456789abcdefghij'));
    const statuses = [];
    for (const authorization of [`Bearer ${forged}`, 'Bearer x.y.z', '']) statuses.push((await auth(gateway, authorization ? { authorization } : {})).statusCode);
    expect(statuses).toEqual([403, 403, 429]);
    // A real user from that same address still has their own budget.
    expect((await auth(gateway, { authorization: `Bearer ${token('carol')}` })).statusCode).toBe(200);
  });

  it('gives clients behind a trusted proxy a bucket each, and believes no X-Forwarded-For from anyone else', async () => {
    const history = (gateway: Gateway, xff: string) =>
      gateway.server.app.inject({ method: 'GET', url: '/v1/rooms/r1/messages?after=0', headers: { 'x-forwarded-for': xff } });
    const proxied = build({ history: { burst: 1, perSecond: 1 }, trustProxy: ['127.0.0.1/32'] });
    expect((await history(proxied, '203.0.113.1')).statusCode).toBe(200);
    expectError(await history(proxied, '203.0.113.1'), 429, 'rate_limited');
    expect((await history(proxied, '203.0.113.2')).statusCode).toBe(200);

    // Without TRUST_PROXY a client cannot dodge its limit by inventing addresses.
    const direct = build({ history: { burst: 1, perSecond: 1 } });
    expect((await history(direct, '203.0.113.1')).statusCode).toBe(200);
    expectError(await history(direct, '203.0.113.2'), 429, 'rate_limited');
  });

  it('gives the history route its own budget: auth traffic does not use it up, nor it auth', async () => {
    const gateway = build({ auth: { burst: 1, perSecond: 1 }, history: { burst: 2, perSecond: 1 } });
    const history = () => gateway.server.app.inject('/v1/rooms/r1/messages?after=0');
    expect((await auth(gateway, {})).statusCode).toBe(403);
    expect((await auth(gateway, {})).statusCode).toBe(429);
    expect([(await history()).statusCode, (await history()).statusCode, (await history()).statusCode]).toEqual([200, 200, 429]);
  });
});

describe('bounded input', () => {
  let gateway: Gateway;
  beforeAll(() => {
    gateway = build();
  });

  it.each([
    ['after=1e20', 'invalid_query'],
    ['after=Infinity', 'invalid_query'],
    ['after=1e400', 'invalid_query'],
    ['after=9007199254740992', 'invalid_query'],
    ['after=-1', 'invalid_query'],
    ['after=1.5', 'invalid_query'],
    ['after=abc', 'invalid_query'],
    ['after=0&limit=0', 'invalid_query'],
    ['after=0&limit=1001', 'invalid_query'],
    ['after=0&limit=1e9', 'invalid_query'],
    ['after=1&before=5', 'invalid_query'],
    ['before=0', 'invalid_query'],
    ['after=0&bogus=1', 'invalid_query'],
  ])('answers history ?%s with 400 %s', async (query, code) => {
    expectError(await gateway.server.app.inject(`/v1/rooms/r1/messages?${query}`), 400, code);
  });

  it('answers the largest cursor it accepts with an empty page', async () => {
    const res = await gateway.server.app.inject(`/v1/rooms/r1/messages?after=${Number.MAX_SAFE_INTEGER}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ items: [], next: Number.MAX_SAFE_INTEGER, before: null, more: false });
  });

  it.each([
    ['kick-9007199254740992', 400],
    ['kick-99999999999999999999', 400],
    ['kick-0123', 400],
    ['..%2F..%2Fetc%2Fpasswd', 400],
    ['a'.repeat(65), 400],
  ])('refuses room id %s on every room route', async (roomId, status) => {
    const bearer = { authorization: `Bearer ${token('dave')}` };
    expectError(await gateway.server.app.inject(`/v1/rooms/${roomId}/messages?after=0`), status, 'invalid_room_id');
    expectError(await gateway.server.app.inject(`/rooms/${roomId}`), status, 'invalid_room_id');
    expectError(await gateway.server.app.inject({ method: 'POST', url: `/v1/rooms/${roomId}/join`, headers: bearer }), status, 'invalid_room_id');
  });

  it('accepts the largest Kick id a room can name', async () => {
    expect((await gateway.server.app.inject(`/v1/rooms/kick-${Number.MAX_SAFE_INTEGER}/messages?after=0`)).statusCode).toBe(200);
  });
});

describe('LiveKit joins', () => {
  it('refuses to join a platform channel’s room, even for a user who claims to own it', async () => {
    const gateway = build();
    for (const roomId of ['kick-777', `kick-${Number.MAX_SAFE_INTEGER}`]) {
      const res = await gateway.server.app.inject({ method: 'POST', url: `/v1/rooms/${roomId}/join`, headers: { authorization: `Bearer ${token('eve', [roomId])}` } });
      expectError(res, 403, 'platform_room');
    }
  });

  it('refuses a join without a session before looking at the room', async () => {
    const gateway = build();
    expectError(await gateway.server.app.inject({ method: 'POST', url: '/v1/rooms/kick-777/join' }), 403, 'forbidden');
  });
});

describe('error shape', () => {
  it('answers unknown routes, wrong methods and bad encodings in the one shape, echoing nothing', async () => {
    const gateway = build();
    for (const [method, url, status, code] of [
      ['GET', '/nope/<img src=x>', 404, 'not_found'],
      ['DELETE', '/v1/rooms/r1/messages', 404, 'not_found'],
      ['GET', '/v1/rooms/%/messages', 400, 'invalid_url'],
      ['GET', '/rooms/%E0%A4%A', 400, 'invalid_url'],
    ] as const) {
      const res = await gateway.server.app.inject({ method, url });
      expectError(res, status, code);
      expect(res.body).not.toMatch(/img|nope|rooms/);
    }
  });
});
