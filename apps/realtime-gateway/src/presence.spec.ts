import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import Pusher from 'pusher';
import type PusherClient from 'pusher-js';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry, createRateLimiter } from '@onair/service-kit';
import { freePortForTests, waitFor } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { buildApp, type Gateway } from './app';
import { PRESENCE_WEBHOOK_EVENTS, type PresenceCount } from './presence';
import { pusherClient } from './testing/pusher-client';
import { startPrivateSoketi, type PrivateSoketi } from './testing/soketi';

/**
 * Soketi's own webhooks, from a Soketi started for this file, reach the gateway: it checks their HMAC,
 * reads the room's audience back from Soketi and publishes it on NATS, and the room's sockets get it.
 */
const SECRET = 'presence-spec-session-secret-0123456789abcdef';
const SESSION = testSessionKeys(SECRET);
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let soketi: PrivateSoketi;
let gateway: Gateway;
let baseUrl: string;
const clients: PusherClient[] = [];

beforeAll(async () => {
  env = await createTestTopology('gateway-presence');
  testDb = await createTestDatabase('gateway_presence');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
  // The gateway's port must be known before Soketi starts: Soketi's webhook URL names it.
  const port = await freePortForTests();
  baseUrl = `http://127.0.0.1:${port}`;
  soketi = await startPrivateSoketi({ webhooks: { url: `${baseUrl}/pusher/webhooks`, events: PRESENCE_WEBHOOK_EVENTS } });
  gateway = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('realtime-gateway'),
    messaging: env.messaging,
    topology: env.topology,
    pusher: new Pusher({ appId: soketi.app.id, key: soketi.app.key, secret: soketi.app.secret, host: '127.0.0.1', port: String(soketi.port), useTLS: false }),
    pusherApp: { key: soketi.app.key, secret: soketi.app.secret },
    presenceWindowMs: 50,
    page: { pusher: { key: soketi.app.key, wsHost: '127.0.0.1', wsPort: soketi.port, forceTLS: false } },
    session: SESSION,
    rateLimiter: createRateLimiter({ burst: 100, perSecond: 10 }),
    historyRateLimiter: createRateLimiter({ burst: 100, perSecond: 10 }),
    coalesceWindowMs: 50,
    db: handle,
  });
  await gateway.server.app.listen({ host: '127.0.0.1', port });
  await gateway.start();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await gateway?.stop();
  await gateway?.server.app.close();
  await soketi?.stop();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

function client(token?: string): PusherClient {
  const c = pusherClient({ key: soketi.app.key, host: '127.0.0.1', port: soketi.port, gatewayUrl: baseUrl, ...(token ? { token } : {}) });
  clients.push(c);
  return c;
}

/** Every presence.count the gateway published for a room, oldest first. */
async function publishedCounts(room: string): Promise<PresenceCount[]> {
  const subject = env.topology.events.subject('onair', room, 'presence.count');
  const counts: PresenceCount[] = [];
  const { state } = await env.messaging.jsm.streams.info(env.topology.events.stream);
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; ) {
    const m = await env.messaging.jsm.streams.getMessage(env.topology.events.stream, { seq, next_by_subj: subject } as unknown as { seq: number }).catch(() => undefined);
    if (!m) break;
    counts.push((m.json() as { data: PresenceCount }).data);
    seq = m.seq + 1;
  }
  return counts;
}

function signed(body: string, secret: string, key = soketi.app.key) {
  return {
    'content-type': 'application/json',
    'x-pusher-key': key,
    'x-pusher-signature': createHmac('sha256', secret).update(body).digest('hex'),
  };
}

describe('presence from Soketi webhooks', () => {
  it('publishes a room’s audience when sockets and signed-in members come and go, and tells the room', async () => {
    const watcher = client();
    const seen: PresenceCount[] = [];
    watcher.subscribe('room-lobby').bind('presence', (p: { data: PresenceCount }) => seen.push(p.data));
    await waitFor(() => publishedCounts('lobby'), (c) => c.some((x) => x.channel === 'room-lobby' && x.subscriptions === 1), {
      what: 'channel_occupied → a count of 1 on NATS',
    });

    const alice = client(signSessionToken({ id: 'alice', name: 'Alice' }, SESSION));
    const bob = client(signSessionToken({ id: 'bob', name: 'Bob' }, SESSION));
    alice.subscribe('presence-room-lobby');
    bob.subscribe('presence-room-lobby');
    await waitFor(() => publishedCounts('lobby'), (c) => c.some((x) => x.channel === 'presence-room-lobby' && x.users === 2), {
      what: 'member_added twice → 2 users',
    });
    await waitFor(() => seen, (s) => s.some((x) => x.channel === 'presence-room-lobby' && x.users === 2), { what: 'the room hearing it' });

    bob.unsubscribe('presence-room-lobby');
    await waitFor(() => publishedCounts('lobby'), (c) => c.at(-1)?.channel === 'presence-room-lobby' && c.at(-1)?.users === 1, {
      what: 'member_removed → 1 user',
    });
    alice.unsubscribe('presence-room-lobby');
    await waitFor(() => publishedCounts('lobby'), (c) => c.at(-1)?.channel === 'presence-room-lobby' && c.at(-1)?.occupied === false, {
      what: 'channel_vacated → not occupied',
    });
  });

  it('refuses webhooks with a bad signature or another app’s key with 401, publishing nothing', async () => {
    const before = (await env.messaging.jsm.streams.info(env.topology.events.stream)).state.messages;
    const body = JSON.stringify({ time_ms: Date.now(), events: [{ name: 'channel_occupied', channel: 'room-forged' }] });
    const post = (headers: Record<string, string>, payload = body) => fetch(`${baseUrl}/pusher/webhooks`, { method: 'POST', headers, body: payload });

    const forged = await post(signed(body, 'not-the-secret'));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({ error: { code: 'invalid_signature', message: expect.any(String) } });
    expect((await post(signed(body, soketi.app.secret), body.replace('forged', 'forgee'))).status).toBe(401); // tampered
    expect((await post(signed(body, soketi.app.secret, 'other-key'))).status).toBe(401);
    const unsigned = await post({ 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    const notEvents = JSON.stringify({ events: 'nope' });
    expect((await post(signed(notEvents, soketi.app.secret), notEvents)).status).toBe(422);
    expect((await env.messaging.jsm.streams.info(env.topology.events.stream)).state.messages).toBe(before);

    // A correctly signed one for a channel that is not a room is accepted and ignored.
    const other = JSON.stringify({ time_ms: Date.now(), events: [{ name: 'channel_occupied', channel: 'private-user-1' }] });
    const ok = await post(signed(other, soketi.app.secret), other);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, channels: 0 });
  });
});
