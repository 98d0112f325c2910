import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import Pusher from 'pusher';
import type PusherClient from 'pusher-js';
import { TokenVerifier } from 'livekit-server-sdk';
import type { ChatMessage } from '@onair/contracts';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry, createRateLimiter } from '@onair/service-kit';
import { startTcpProxy, waitFor } from '@onair/service-kit/testing';
import { pusherClient } from './testing/pusher-client';
import { chatItems, createRoomFeed, type ChatEventPayload, type ChatItem } from '@onair/room-client';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { buildApp, type Gateway } from './app';

/**
 * The gateway against a real Soketi (started by the test stack) and real pusher-js clients: chat
 * published on JetStream reaches subscribed browsers in order, channel auth is enforced by Soketi
 * verifying our signatures, and LiveKit join tokens carry least-privilege grants.
 */
const SECRET = 'gateway-spec-session-secret-0123456789abcdef';
const SESSION = testSessionKeys(SECRET);
const PUSHER = {
  appId: process.env['PUSHER_APP_ID'] ?? 'onair',
  key: process.env['PUSHER_APP_KEY'] ?? 'onair-key',
  secret: process.env['PUSHER_APP_SECRET'] ?? 'onair-secret',
  host: process.env['PUSHER_HOST'] ?? '127.0.0.1',
  port: Number(process.env['PUSHER_PORT'] ?? 6001),
};
const LIVEKIT = { url: 'wss://livekit.example.test', apiKey: 'lk-key', apiSecret: 'lk-secret-0123456789abcdef0123456789', ttlS: 600 };

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let gateway: Gateway;
let baseUrl: string;
const clients: PusherClient[] = [];

function client(token?: string, wsPort = PUSHER.port): PusherClient {
  const c = pusherClient({ key: PUSHER.key, host: PUSHER.host, port: wsPort, gatewayUrl: baseUrl, ...(token ? { token } : {}) });
  clients.push(c);
  return c;
}

function subscribe(c: PusherClient, name: string): Promise<{ ok: true; channel: ReturnType<PusherClient['subscribe']> } | { ok: false; status: number }> {
  return new Promise((resolve) => {
    const channel = c.subscribe(name);
    channel.bind('pusher:subscription_succeeded', () => resolve({ ok: true, channel }));
    channel.bind('pusher:subscription_error', (error: { status: number }) => resolve({ ok: false, status: error.status }));
  });
}

/** A gateway on this file's topology, database and the test Soketi, with the given auth limit. */
function build(options: { burst: number; perSecond: number; livekit?: typeof LIVEKIT }): Gateway {
  return buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('realtime-gateway'),
    messaging: env.messaging,
    topology: env.topology,
    pusher: new Pusher({ appId: PUSHER.appId, key: PUSHER.key, secret: PUSHER.secret, host: PUSHER.host, port: String(PUSHER.port), useTLS: false }),
    session: SESSION,
    rateLimiter: createRateLimiter({ burst: options.burst, perSecond: options.perSecond }),
    historyRateLimiter: createRateLimiter({ burst: 1000, perSecond: 100 }),
    coalesceWindowMs: 50,
    pusherApp: { key: PUSHER.key, secret: PUSHER.secret },
    presenceWindowMs: 100,
    page: { pusher: { key: PUSHER.key, wsHost: PUSHER.host, wsPort: PUSHER.port, forceTLS: false } },
    ...(options.livekit ? { livekit: options.livekit } : {}),
    db: handle,
  });
}

beforeAll(async () => {
  env = await createTestTopology('gateway');
  testDb = await createTestDatabase('gateway');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
  gateway = build({ burst: 1000, perSecond: 100, livekit: LIVEKIT });
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

function chat(i: number, room: string): ChatMessage {
  const at = new Date(Date.UTC(2026, 10, 23, 12) + i).toISOString();
  return { platform: 'onair', messageId: `${room}-${i}`, channelId: room, senderId: `u${i % 3}`, senderUsername: `user${i % 3}`, content: `hello ${i}`, sentAt: at, receivedAt: at };
}

describe('realtime gateway', () => {
  it('delivers a room chat published on JetStream to subscribed browsers, all of it, in order', async () => {
    const viewer = client();
    const sub = await subscribe(viewer, 'room-r1');
    expect(sub.ok).toBe(true);
    const received: ChatItem[] = [];
    const events: ChatEventPayload[] = [];
    if (sub.ok) {
      sub.channel.bind('chat', (payload: ChatEventPayload) => {
        events.push(payload);
        received.push(...chatItems(payload));
      });
    }
    for (let i = 0; i < 60; i++) {
      const m = chat(i, 'r1');
      await env.messaging.js.publish(env.topology.chat.subject('onair', 'r1'), JSON.stringify(m), { msgID: `onair:${m.messageId}` });
    }
    await waitFor(() => received.length, (n) => n >= 60, { what: '60 chat messages over the socket' });
    expect(received.map((m) => m.id)).toEqual(Array.from({ length: 60 }, (_, i) => `r1-${i}`));
    // Every field survives the compact rows of the wire form.
    expect(received[7]).toEqual({
      seq: expect.any(Number),
      id: 'r1-7',
      platform: 'onair',
      sender: { id: 'u1', name: 'user1' },
      content: 'hello 7',
      sentAt: chat(7, 'r1').sentAt,
    });
    const seqs = received.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    for (const e of events) expect(e.seq[0]).toBeLessThanOrEqual(e.seq[1]);
  });

  it('with two replicas sharing the fan-out, every event names the room\'s true previous message, and `whole` ones hold all after it', async () => {
    // Replicas split the fan-out consumer's batches, so each sees part of a room; both tails read the whole
    // stream, so an event's `prev` is the room's message before it whichever replica sends it.
    const second = build({ burst: 1000, perSecond: 100 });
    await second.start();
    try {
      const viewer = client();
      const sub = await subscribe(viewer, 'room-r-two');
      expect(sub.ok).toBe(true);
      const events: ChatEventPayload[] = [];
      if (sub.ok) sub.channel.bind('chat', (payload: ChatEventPayload) => events.push(payload));
      const published: number[] = [];
      const acks: Array<Promise<unknown>> = [];
      for (let i = 0; i < 400; i++) {
        // Another room's messages in between: sequences are the whole stream's.
        const m = chat(i, i % 3 === 0 ? 'r-other' : 'r-two');
        acks.push(
          env.messaging.js.publish(env.topology.chat.subject('onair', m.channelId), JSON.stringify(m), { msgID: `onair:${m.messageId}` }).then((ack) => {
            if (m.channelId === 'r-two') published.push(ack.seq);
          }),
        );
        if (i % 50 === 49) await Promise.all(acks.splice(0));
      }
      await Promise.all(acks);
      published.sort((a, b) => a - b);
      const count = () => events.reduce((n, e) => n + e.messages.length, 0);
      await waitFor(count, (n) => n >= published.length, { what: 'the room over the socket, from both replicas' });
      const room = new Set(published);
      const before = new Map(published.map((seq, i) => [seq, published[i - 1]]));
      let wholeEvents = 0;
      for (const e of events) {
        const seqs = chatItems(e).map((m) => m.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(seqs.every((q) => room.has(q))).toBe(true);
        if (e.prev !== undefined) expect(e.prev).toBe(before.get(seqs[0]!));
        if (e.whole) {
          wholeEvents++;
          expect(e.prev).toBeDefined();
          expect(seqs).toEqual(published.filter((q) => q > e.prev! && q <= seqs.at(-1)!));
        }
      }
      expect(count()).toBe(published.length);
      // Nearly every event can say its prev: all but the room's first (older than the tails) and any window
      // whose tail read lagged past the fan-out's wait (a cold, loaded machine).
      expect(events.filter((e) => e.prev !== undefined).length).toBeGreaterThanOrEqual(events.length * 0.9);
      expect(wholeEvents).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });

  it('sends gifts and viewer counts to the room as they happen', async () => {
    const viewer = client();
    const sub = await subscribe(viewer, 'room-kick-777');
    const got: Array<[string, unknown]> = [];
    if (sub.ok) {
      sub.channel.bind('gift', (p: unknown) => got.push(['gift', p]));
      sub.channel.bind('viewers', (p: unknown) => got.push(['viewers', p]));
    }
    const gift = {
      platform: 'kick',
      eventId: 'evt-gift-777',
      type: 'kicks.gifted',
      channelId: '777',
      receivedAt: '2026-11-23T12:00:00.000Z',
      data: { broadcaster: { user_id: 777 }, sender: { user_id: 1, username: 'fan' }, gift: { amount: 100, name: 'Full Send' } },
    };
    await env.messaging.js.publish(env.topology.events.subject('kick', '777', 'kicks.gifted'), JSON.stringify(gift), { msgID: 'evt-gift-777' });
    const probe = {
      platform: 'kick',
      channelId: 5,
      platformUserId: '777',
      ts: '2026-11-23T12:01:00.000Z',
      isLive: true,
      viewerCount: 4321,
      streamStartedAt: '2026-11-23T11:00:00.000Z',
      title: null,
      category: null,
    };
    await env.messaging.js.publish(env.topology.probes.subject('kick', '5'), JSON.stringify(probe), { msgID: 'probe:5:1' });
    await waitFor(() => got.length, (n) => n === 2, { what: 'the gift and the viewer count' });
    expect(Object.fromEntries(got)).toEqual({
      gift: expect.objectContaining({ type: 'kicks.gifted', eventId: 'evt-gift-777', data: gift.data, seq: expect.any(Number) }),
      viewers: { seq: expect.any(Number), at: probe.ts, live: true, viewers: 4321 },
    });
  });

  it('turns LiveKit webhooks stored by ingest into room-state events on the room', async () => {
    const viewer = client();
    const sub = await subscribe(viewer, 'room-stage');
    const got: unknown[] = [];
    if (sub.ok) sub.channel.bind('room-state', (p: unknown) => got.push(p));
    const joined = {
      platform: 'onair',
      eventId: 'EV_stage_join',
      type: 'livekit.participant_joined',
      channelId: 'stage',
      receivedAt: '2026-11-23T12:00:00.000Z',
      data: { event: 'participant_joined', room: { sid: 'RM_1', name: 'stage', numParticipants: 1 }, participant: { sid: 'PA_1', identity: 'u1', name: 'Ada' }, createdAt: 1 },
    };
    await env.messaging.js.publish(env.topology.events.subject('onair', 'stage', joined.type), JSON.stringify(joined), { msgID: 'livekit:EV_stage_join' });
    await waitFor(() => got.length, (n) => n === 1, { what: 'the room-state event' });
    expect(got[0]).toEqual({ seq: expect.any(Number), type: 'livekit.participant_joined', eventId: 'EV_stage_join', at: joined.receivedAt, data: joined.data });
  });

  it('signs presence channels for a signed-in user, with their id and name, and Soketi accepts it', async () => {
    const token = signSessionToken({ id: 'alice', name: 'Alice' }, SESSION);
    const sub = await subscribe(client(token), 'presence-room-r2');
    expect(sub.ok).toBe(true);
    if (sub.ok) {
      const members = (sub.channel as unknown as { members: { me: { id: string; info: { name: string } } } }).members;
      expect(members.me).toMatchObject({ id: 'alice', info: { name: 'Alice' } });
    }
  });

  it('refuses presence without a session, and another user’s private channel, with 403', async () => {
    expect(await subscribe(client(), 'presence-room-r3')).toEqual({ ok: false, status: 403 });
    const bob = signSessionToken({ id: 'bob', name: 'Bob' }, SESSION);
    expect(await subscribe(client(bob), 'private-user-alice')).toEqual({ ok: false, status: 403 });
    expect((await subscribe(client(bob), 'private-user-bob')).ok).toBe(true);
    const forged = signSessionToken({ id: 'bob', name: 'Bob' }, testSessionKeys('not-the-secret-0123456789abcdef0123'));
    expect(await subscribe(client(forged), 'presence-room-r3')).toEqual({ ok: false, status: 403 });
  });

  it('mints LiveKit join tokens: viewers subscribe only, the owner may publish', async () => {
    const join = async (token: string, room: string) => {
      const res = await fetch(`${baseUrl}/v1/rooms/${room}/join`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as { url: string; token: string; error?: { code: string } } };
    };
    const verifier = new TokenVerifier(LIVEKIT.apiKey, LIVEKIT.apiSecret);
    const viewer = await join(signSessionToken({ id: 'v1', name: 'Viewer' }, SESSION), 'stage');
    expect(viewer.status).toBe(200);
    expect(viewer.body.url).toBe(LIVEKIT.url);
    const viewerClaims = await verifier.verify(viewer.body.token);
    expect(viewerClaims).toMatchObject({ sub: 'v1', name: 'Viewer', video: { room: 'stage', roomJoin: true, canSubscribe: true, canPublish: false, canPublishData: false } });
    expect((viewerClaims as { exp: number; nbf: number }).exp - (viewerClaims as { nbf: number }).nbf).toBe(LIVEKIT.ttlS);
    const owner = await join(signSessionToken({ id: 'o1', name: 'Owner', ownsRooms: ['stage'] }, SESSION), 'stage');
    expect(await verifier.verify(owner.body.token)).toMatchObject({ video: { room: 'stage', canPublish: true, canPublishData: true } });
    const elsewhere = await join(signSessionToken({ id: 'o1', name: 'Owner', ownsRooms: ['stage'] }, SESSION), 'other');
    expect(await verifier.verify(elsewhere.body.token)).toMatchObject({ video: { room: 'other', canPublish: false } });
    const anonymous = await fetch(`${baseUrl}/v1/rooms/stage/join`, { method: 'POST' });
    expect(anonymous.status).toBe(403);
  });

  it('serves a room\'s newest, what came after a sequence and what came before one, from memory while it holds them', async () => {
    const subject = env.topology.chat.subject('onair', 'gap');
    const seqs: number[] = [];
    for (let i = 0; i < 12; i++) {
      const m = chat(i, 'gap');
      const ack = await env.messaging.js.publish(subject, JSON.stringify(m), { msgID: `onair:${m.messageId}` });
      seqs.push(ack.seq);
      // Another room's message in between: it must not show up in this room's history.
      await env.messaging.js.publish(env.topology.chat.subject('onair', 'other'), JSON.stringify(chat(i, 'other')), { msgID: `onair:other-gap-${i}` });
    }
    type Page = { items: Array<{ id: string; seq: number }>; next: number; before: number | null; more: boolean; source: string };
    const history = async (query: string) => (await (await fetch(`${baseUrl}/v1/rooms/gap/messages?${query}`)).json()) as Page;
    // The gateway's tail sees the messages as they are stored.
    await waitFor(() => history('limit=1'), (p) => p.items[0]?.seq === seqs[11], { what: 'the tail caught up' });

    const newest = await history('limit=5');
    expect(newest).toMatchObject({ source: 'tail', next: seqs[11], before: seqs[7], more: false });
    expect(newest.items.map((m) => m.id)).toEqual(['gap-7', 'gap-8', 'gap-9', 'gap-10', 'gap-11']);
    const older = await history(`before=${newest.before}&limit=5`);
    expect(older.items.map((m) => m.id)).toEqual(['gap-2', 'gap-3', 'gap-4', 'gap-5', 'gap-6']);
    const after = await history(`after=${seqs[3]}&limit=5`);
    expect(after).toMatchObject({ source: 'tail', next: seqs[8], more: true });
    expect(after.items.map((m) => m.seq)).toEqual(seqs.slice(4, 9));
    expect(await history(`after=${seqs[11]}`)).toEqual({ items: [], next: seqs[11], before: null, more: false, source: 'tail' });

    const bad = await fetch(`${baseUrl}/v1/rooms/gap/messages?after=-1`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_query');
    const both = await fetch(`${baseUrl}/v1/rooms/gap/messages?after=1&before=5`);
    expect(both.status).toBe(400);
  });

  it('lets pages on other origins read the public routes (client config, history, leaderboard), errors included', async () => {
    const config = await fetch(`${baseUrl}/v1/client-config`, { headers: { origin: 'http://console.example' } });
    expect(config.headers.get('access-control-allow-origin')).toBe('*');
    expect(await config.json()).toEqual({ pusher: { key: PUSHER.key, wsHost: PUSHER.host, wsPort: PUSHER.port, forceTLS: false } });
    for (const path of ['/v1/rooms/cors/messages?limit=1', '/v1/rooms/cors/leaderboard', '/v1/rooms/cors/messages?limit=0']) {
      const response = await fetch(`${baseUrl}${path}`, { headers: { origin: 'http://console.example' } });
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
    }
    // What needs a session is not opened to other origins.
    const auth = await fetch(`${baseUrl}/pusher/auth`, { method: 'POST', headers: { origin: 'http://console.example' } });
    expect(auth.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a client cut off for 5 s during a burst ends with every message exactly once, in order', async () => {
    // The socket goes through a TCP proxy we can cut, as a phone losing its network would.
    const proxy = await startTcpProxy({ host: PUSHER.host, port: PUSHER.port });
    const viewer = client(undefined, proxy.port);
    const feed = createRoomFeed({ pusher: viewer, roomId: 'burst', gatewayUrl: baseUrl, after: 0, keep: 10_000, maxBackfill: 1000, reconnectJitterMs: 200, onChange: () => undefined });
    const connected = () => viewer.connection.state === 'connected';
    await waitFor(connected, (ok) => ok, { what: 'the viewer connected' });

    let published = 0;
    let stopAt = Infinity;
    const burst = (async () => {
      for (; published < stopAt; published++) {
        const m = chat(published, 'burst');
        await env.messaging.js.publish(env.topology.chat.subject('onair', 'burst'), JSON.stringify(m), { msgID: `onair:${m.messageId}` });
        // Another room keeps chatting too: its sequences interleave with this room's.
        if (published % 4 === 0) await env.messaging.js.publish(env.topology.chat.subject('onair', 'bystander'), JSON.stringify(chat(published, 'bystander')));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await waitFor(() => feed.messages().length, (n) => n >= 50, { what: 'the first live messages' });
    await proxy.down();
    await waitFor(() => viewer.connection.state, (state) => state !== 'connected', { what: 'the viewer noticing it was cut off' });
    const cutAt = published;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await proxy.up();
    await waitFor(connected, (ok) => ok, { what: 'pusher-js reconnecting by itself' });
    // The burst goes on for a while after the reconnect: live messages and backfilled ones meet.
    stopAt = published + 50;
    await burst;
    const total = published;
    expect(total - cutAt).toBeGreaterThan(100); // the client was away for a good part of the burst
    await waitFor(() => feed.messages().length, (n) => n >= total, { what: 'every message after the reconnect' });
    await feed.idle();
    const ids = feed.messages().map((m: ChatItem) => m.id);
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => `burst-${i}`));
    const seqs = feed.messages().map((m) => m.seq);
    expect(new Set(seqs).size).toBe(total);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    feed.close();
    viewer.disconnect();
    await proxy.close();
  }, 120_000);
});
