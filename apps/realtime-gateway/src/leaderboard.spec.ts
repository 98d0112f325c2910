import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import Pusher from 'pusher';
import type PusherClient from 'pusher-js';
import { sql } from 'kysely';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry, createRateLimiter } from '@onair/service-kit';
import { waitFor } from '@onair/service-kit/testing';
import { testSessionKeys } from '@onair/session/testing';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { pusherClient } from './testing/pusher-client';
import { buildApp, type Gateway } from './app';
import type { Leaderboard } from './leaderboard';

/**
 * Gifts and leaderboards in the room, against real NATS, Postgres and Soketi: each `gift.sent` on the events
 * stream reaches `room-<id>` as `gift`, and the room's leaderboard (read from `gift_leaderboard`, as the gifts
 * service keeps it) follows as `leaderboard`, at most once a second however many gifts arrive.
 */
const PUSHER = {
  appId: process.env['PUSHER_APP_ID'] ?? 'onair',
  key: process.env['PUSHER_APP_KEY'] ?? 'onair-key',
  secret: process.env['PUSHER_APP_SECRET'] ?? 'onair-secret',
  host: process.env['PUSHER_HOST'] ?? '127.0.0.1',
  port: Number(process.env['PUSHER_PORT'] ?? 6001),
};
const TODAY = () => new Date().toISOString().slice(0, 10);

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let gateway: Gateway;
let baseUrl: string;
const clients: PusherClient[] = [];

function build(history = { burst: 1000, perSecond: 100 }): Gateway {
  return buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('realtime-gateway'),
    messaging: env.messaging,
    topology: env.topology,
    pusher: new Pusher({ appId: PUSHER.appId, key: PUSHER.key, secret: PUSHER.secret, host: PUSHER.host, port: String(PUSHER.port), useTLS: false }),
    session: testSessionKeys('leaderboard-spec-session-secret-0123456789'),
    rateLimiter: createRateLimiter({ burst: 1000, perSecond: 100 }),
    historyRateLimiter: createRateLimiter(history),
    coalesceWindowMs: 50,
    pusherApp: { key: PUSHER.key, secret: PUSHER.secret },
    presenceWindowMs: 100,
    page: { pusher: { key: PUSHER.key, wsHost: PUSHER.host, wsPort: PUSHER.port, forceTLS: false } },
    db: handle,
  });
}

beforeAll(async () => {
  env = await createTestTopology('leaderboard');
  testDb = await createTestDatabase('gateway_leaderboard');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, new Date());
  gateway = build();
  await gateway.server.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(gateway.server.app.server.address() as { port: number }).port}`;
  await gateway.start();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await gateway?.stop();
  await gateway?.server.app.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

/** A browser on `room-<roomId>`, recording `gift` and `leaderboard` events with their arrival time. */
async function watch(channelName: string) {
  const c = pusherClient({ key: PUSHER.key, host: PUSHER.host, port: PUSHER.port, gatewayUrl: baseUrl });
  clients.push(c);
  const gifts: Array<{ data: { giftId: number; sender: { username: string }; gift: { name: string; amount: number } } }> = [];
  const boards: Array<{ at: number; board: Leaderboard }> = [];
  await new Promise<void>((resolve) => {
    const channel = c.subscribe(channelName);
    channel.bind('pusher:subscription_succeeded', () => resolve());
    channel.bind('gift', (p: (typeof gifts)[number]) => gifts.push(p));
    channel.bind('leaderboard', (board: Leaderboard) => boards.push({ at: Date.now(), board }));
  });
  return { gifts, boards };
}

let nextGift = 1;
/** What the gifts service does for one gift: the leaderboard rows in its transaction, then `gift.sent`. */
async function giftSent(roomId: string, sender: string, coins: number, streamId?: number) {
  const giftId = nextGift++;
  for (const period of [`day:${TODAY()}`, ...(streamId ? [`stream:${streamId}`] : [])]) {
    await sql`
      INSERT INTO gift_leaderboard (platform, channel_id, period, sender_id, sender_name, coins, gifts)
      VALUES ('onair', ${roomId}, ${period}, ${sender}, ${`name-${sender}`}, ${coins}, 1)
      ON CONFLICT (platform, channel_id, period, sender_id)
      DO UPDATE SET coins = gift_leaderboard.coins + EXCLUDED.coins, gifts = gift_leaderboard.gifts + 1`.execute(handle.db);
  }
  const event = {
    platform: 'onair',
    eventId: `gift-${giftId}`,
    type: 'gift.sent',
    channelId: roomId,
    receivedAt: new Date().toISOString(),
    data: { giftId, sender: { id: sender, username: `name-${sender}` }, recipient: { id: 'owner' }, gift: { id: 'star', name: 'Star', amount: coins, quantity: 1 } },
  };
  await env.messaging.js.publish(env.topology.events.subject('onair', roomId, 'gift.sent'), JSON.stringify(event), { msgID: `gift:${giftId}` });
}

describe('gifts in the room', () => {
  it('sends each gift.sent as `gift` and the moved leaderboard (stream and day) as `leaderboard`', async () => {
    const { rows } = await sql<{ id: string }>`
      INSERT INTO live_streams (platform, channel_id, started_at, source) VALUES ('onair', 'lb1', now() - interval '5 minutes', 'livekit') RETURNING id`.execute(handle.db);
    const streamId = Number(rows[0]!.id);
    // An ended stream of the same room is not the one on air.
    await sql`INSERT INTO live_streams (platform, channel_id, started_at, ended_at, source) VALUES ('onair', 'lb1', now() - interval '2 hours', now() - interval '1 hour', 'livekit')`.execute(handle.db);
    await sql`
      INSERT INTO gift_leaderboard (platform, channel_id, period, sender_id, sender_name, coins, gifts)
      VALUES ('onair', 'lb1', ${`day:${TODAY()}`}, 'early', 'name-early', 40, 2)`.execute(handle.db);
    const room = await watch('room-lb1');
    await giftSent('lb1', 'ada', 25, streamId);
    await waitFor(() => room.boards.length, (n) => n >= 1, { what: 'a leaderboard event' });
    expect(room.gifts).toEqual([expect.objectContaining({ type: 'gift.sent', data: expect.objectContaining({ sender: { id: 'ada', username: 'name-ada' }, gift: expect.objectContaining({ name: 'Star', amount: 25 }) }) })]);
    const { board } = room.boards[0]!;
    expect(board.day).toEqual({
      day: TODAY(),
      top: [
        { senderId: 'early', name: 'name-early', coins: 40, gifts: 2 },
        { senderId: 'ada', name: 'name-ada', coins: 25, gifts: 1 },
      ],
    });
    expect(board.stream).toEqual({ id: streamId, startedAt: expect.any(String), top: [{ senderId: 'ada', name: 'name-ada', coins: 25, gifts: 1 }] });

    // The same at GET /v1/rooms/:roomId/leaderboard.
    const res = await fetch(`${baseUrl}/v1/rooms/lb1/leaderboard`);
    expect(res.status).toBe(200);
    const read = (await res.json()) as Leaderboard;
    expect({ day: read.day, stream: read.stream }).toEqual({ day: board.day, stream: board.stream });
  });

  it('a hot room gets one leaderboard a second, the last one counting every gift', async () => {
    const room = await watch('room-lb-hot');
    const started = Date.now();
    // 300 gifts from 150 senders over ~2.5 s: the fan-out sees them in many batches.
    for (let i = 0; i < 300; i++) {
      await giftSent('lb-hot', `s${String(i % 150).padStart(3, '0')}`, 1 + (i % 7));
      if (i % 30 === 29) await new Promise((r) => setTimeout(r, 250));
    }
    const sentFor = Date.now() - started;
    await waitFor(() => room.gifts.length, (n) => n === 300, { what: '300 gift events' });
    // The last window's read covers the last gift.
    const totalCoins = Array.from({ length: 300 }, (_, i) => 1 + (i % 7)).reduce((a, b) => a + b, 0);
    const coinsOf = (b: Leaderboard) => b.day.top.reduce((sum, g) => sum + g.coins, 0);
    const top10 = (await sql<{ coins: string }>`
      SELECT coins FROM gift_leaderboard WHERE channel_id = 'lb-hot' ORDER BY coins DESC, sender_id LIMIT 10`.execute(handle.db)).rows.reduce((s, r) => s + Number(r.coins), 0);
    await waitFor(() => room.boards.at(-1)?.board, (b) => b !== undefined && coinsOf(b) === top10, { what: 'a leaderboard with every gift', timeoutMs: 5_000 });
    expect(totalCoins).toBeGreaterThan(top10); // the board lists the top 10 of 150 senders only
    await new Promise((r) => setTimeout(r, 1_500)); // nothing more after the last window
    const at = room.boards.map((b) => b.board.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_000);
    expect(room.boards.length).toBeLessThanOrEqual(Math.ceil((sentFor + 2_000) / 1_000) + 1);
    expect(room.boards.at(-1)!.board.day.top).toHaveLength(10);
    expect(room.boards.at(-1)!.board.stream).toBeNull(); // not on air
  });

  it('GET /v1/rooms/:roomId/leaderboard: bounded inputs, error shape, rate-limited per address', async () => {
    const empty = await fetch(`${baseUrl}/v1/rooms/kick-123/leaderboard?limit=3`);
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ at: expect.any(Number), day: { day: TODAY(), top: [] }, stream: null });
    for (const [url, code] of [
      ['/v1/rooms/bad!room/leaderboard', 'invalid_room_id'],
      ['/v1/rooms/kick-01/leaderboard', 'invalid_room_id'],
      ['/v1/rooms/lb1/leaderboard?limit=11', 'invalid_query'],
      ['/v1/rooms/lb1/leaderboard?limit=0', 'invalid_query'],
      ['/v1/rooms/lb1/leaderboard?limit=1e400', 'invalid_query'],
      ['/v1/rooms/lb1/leaderboard?day=2026-01-01', 'invalid_query'],
    ] as const) {
      const res = await fetch(`${baseUrl}${url}`);
      expect({ url, status: res.status, body: await res.json() }).toEqual({ url, status: 400, body: { error: { code, message: expect.any(String) } } });
    }
    const limited = build({ burst: 2, perSecond: 1 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.server.app.inject({ method: 'GET', url: '/v1/rooms/lb1/leaderboard' })).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await limited.server.app.close();
    }
  });
});
