import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createRateLimiter } from '@onair/service-kit';
import { buildApp, BODY_LIMIT } from './app';
import { loadKickKey } from './kick/signature';
import { createKickSigner, kickChatBody } from './testing/kick-signer';
import { createTestTopology } from '@onair/messaging/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { createMetricsRegistry, type HttpServer } from '@onair/service-kit';
import type { Messaging } from '@onair/messaging';
import { ChatMessage, compileValidator, uuidV7, uuidV7Time, type Topology } from '@onair/contracts';

const NOW = Date.parse('2026-11-23T12:00:30Z');
const TIMESTAMP = '2026-11-23T12:00:00Z';
const SECRET = 'ingest-spec-secret-0123456789abcdef';
const SESSION = testSessionKeys(SECRET);
const signer = createKickSigner();

let env: Awaited<ReturnType<typeof createTestTopology>>;
let server: HttpServer;
let topology: Topology;
let messaging: Messaging;

function build(overrides: { messaging?: Messaging; burst?: number } = {}): HttpServer {
  return buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('ingest'),
    messaging: overrides.messaging ?? messaging,
    topology,
    kickKey: loadKickKey(signer.publicKeyPem),
    session: SESSION,
    rateLimiter: createRateLimiter({ burst: overrides.burst ?? 1000, perSecond: 1 }),
    publishTimeoutMs: 2000,
    kickMaxSkewMs: 300_000,
    messageMaxSkewMs: 300_000,
    now: () => NOW,
  });
}

beforeAll(async () => {
  env = await createTestTopology('ingest-app');
  topology = env.topology;
  messaging = env.messaging;
  server = build();
  await server.app.ready();
});
afterAll(async () => {
  await server?.app.close();
  await env?.cleanup();
});

async function streamCount(stream: string): Promise<number> {
  return (await messaging.jsm.streams.info(stream)).state.messages;
}

function kick(body: unknown, options: { id: string; type?: string; timestamp?: string; headers?: Record<string, string | undefined> }) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    ...signer.headers(text, { id: options.id, type: options.type ?? 'chat.message.sent', timestamp: options.timestamp ?? TIMESTAMP }),
  };
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return server.app.inject({ method: 'POST', url: '/webhooks/kick', payload: text, headers });
}

describe('POST /webhooks/kick', () => {
  it('stores a signed chat message in the chat stream, then answers 202', async () => {
    const res = await kick(kickChatBody('chat-1'), { id: 'evt-chat-1' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, duplicate: false });
    const stored = await messaging.jsm.streams.getMessage(topology.chat.stream, { last_by_subj: topology.chat.subject('kick', '123456789') });
    expect(stored?.json()).toEqual({
      platform: 'kick',
      messageId: 'chat-1',
      channelId: '123456789',
      senderId: '987654321',
      senderUsername: 'viewer',
      content: 'Hello [emote:4148074:HYPERCLAPH]',
      sentAt: '2026-11-23T12:00:00.000Z',
      receivedAt: new Date(NOW).toISOString(),
    });
  });

  it("carries the sender's broadcaster and moderator badges as roles, and no others", async () => {
    const sender = { is_anonymous: false, user_id: 55, username: 'mod', identity: { username_color: '#fff', badges: [{ text: 'Moderator', type: 'moderator' }, { text: 'VIP', type: 'vip' }] } };
    expect((await kick(kickChatBody('chat-mod', { sender }), { id: 'evt-chat-mod' })).statusCode).toBe(202);
    const stored = await messaging.jsm.streams.getMessage(topology.chat.stream, { last_by_subj: topology.chat.subject('kick', '123456789') });
    expect(stored?.json()).toMatchObject({ messageId: 'chat-mod', senderRoles: ['moderator'] });
  });

  it('publishes the same Kick message id once however often it is delivered', async () => {
    const before = await streamCount(topology.chat.stream);
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push((await kick(kickChatBody('chat-dup'), { id: 'evt-dup' })).json());
    expect(replies).toEqual([
      { accepted: true, duplicate: false },
      { accepted: true, duplicate: true },
      { accepted: true, duplicate: true },
    ]);
    expect(await streamCount(topology.chat.stream)).toBe(before + 1);
  });

  it('routes typed platform events to the events stream', async () => {
    const body = {
      broadcaster: { user_id: 42, username: 'streamer', channel_slug: 'streamer' },
      sender: { is_anonymous: false, user_id: 7, username: 'fan', is_verified: false, profile_picture: null, channel_slug: 'fan', identity: null },
      gift: { amount: 100, name: 'Full Send', type: 'BASIC', tier: 'BASIC', message: 'gg', pinned_time_seconds: 0 },
      created_at: '2026-11-23T12:00:00Z',
    };
    const res = await kick(body, { id: 'evt-gift-1', type: 'kicks.gifted' });
    expect(res.statusCode).toBe(202);
    const stored = await messaging.jsm.streams.getMessage(topology.events.stream, {
      last_by_subj: topology.events.subject('kick', '42', 'kicks.gifted'),
    });
    expect(stored?.json()).toMatchObject({ platform: 'kick', eventId: 'evt-gift-1', type: 'kicks.gifted', channelId: '42', data: body });
  });

  it('acknowledges an unknown event type without publishing it', async () => {
    const chat = await streamCount(topology.chat.stream);
    const events = await streamCount(topology.events.stream);
    const res = await kick({ anything: true }, { id: 'evt-unknown', type: 'channel.raided' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, duplicate: false, ignored: true });
    expect(await streamCount(topology.chat.stream)).toBe(chat);
    expect(await streamCount(topology.events.stream)).toBe(events);
  });

  describe('refusals publish nothing', () => {
    let before: number;
    beforeEach(async () => {
      before = await streamCount(topology.chat.stream);
    });
    const expectNothingPublished = async () => expect(await streamCount(topology.chat.stream)).toBe(before);

    it('refuses a signature made with another key', async () => {
      const other = createKickSigner();
      const text = JSON.stringify(kickChatBody('x1'));
      const res = await server.app.inject({
        method: 'POST',
        url: '/webhooks/kick',
        payload: text,
        headers: other.headers(text, { id: 'evt-x1', type: 'chat.message.sent', timestamp: TIMESTAMP }),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_signature');
      await expectNothingPublished();
    });

    it('refuses a body changed after signing', async () => {
      const text = JSON.stringify(kickChatBody('x2'));
      const headers = signer.headers(text, { id: 'evt-x2', type: 'chat.message.sent', timestamp: TIMESTAMP });
      const res = await server.app.inject({ method: 'POST', url: '/webhooks/kick', payload: text.replace('Hello', 'Hellp'), headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_signature');
      await expectNothingPublished();
    });

    it('refuses a message id swapped after signing', async () => {
      const res = await kick(kickChatBody('x3'), { id: 'evt-x3', headers: { 'kick-event-message-id': 'evt-other' } });
      expect(res.statusCode).toBe(401);
      await expectNothingPublished();
    });

    it.each([
      ['six minutes old', '2026-11-23T11:54:29Z'],
      ['six minutes ahead', '2026-11-23T12:06:31Z'],
    ])('refuses a correctly signed message %s', async (_label, timestamp) => {
      const res = await kick(kickChatBody('x4'), { id: 'evt-x4', timestamp });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('stale_timestamp');
      await expectNothingPublished();
    });

    it.each(['kick-event-message-id', 'kick-event-message-timestamp', 'kick-event-signature', 'kick-event-type'])(
      'refuses a request without %s',
      async (header) => {
        const res = await kick(kickChatBody('x5'), { id: 'evt-x5', headers: { [header]: undefined } });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({ error: { code: 'missing_header', message: `Header ${header} is required` } });
        await expectNothingPublished();
      },
    );

    it('refuses a signed chat message missing its fields with 422', async () => {
      const res = await kick({ message_id: 'x6', content: 'hi' }, { id: 'evt-x6' });
      expect(res.statusCode).toBe(422);
      expect(res.json().error.code).toBe('validation_failed');
      await expectNothingPublished();
    });

    it('refuses bodies over 64 KiB with 413 and non-JSON with 415', async () => {
      const huge = JSON.stringify(kickChatBody('x7', { content: 'a'.repeat(BODY_LIMIT) }));
      const big = await kick(huge, { id: 'evt-x7' });
      expect(big.statusCode).toBe(413);
      expect(big.json().error.code).toBe('body_too_large');
      const text = await kick('hello', { id: 'evt-x8', headers: { 'content-type': 'text/plain' } });
      expect(text.statusCode).toBe(415);
      expect(text.json().error.code).toBe('unsupported_media_type');
      await expectNothingPublished();
    });
  });
});

describe('POST /v1/rooms/:roomId/messages', () => {
  const token = signSessionToken({ id: 'user-1', name: 'Alice' }, SESSION, { nowMs: NOW });
  const post = (payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }, room = 'room-1') =>
    server.app.inject({ method: 'POST', url: `/v1/rooms/${room}/messages`, payload: payload as object, headers });

  it('stores a message from a signed-in user, trimmed, with the user as sender and the id\'s time as sentAt', async () => {
    const clientId = uuidV7(NOW - 20_000);
    const res = await post({ messageId: clientId, content: '  hello room  ' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, duplicate: false, messageId: `user-1:${clientId}` });
    const stored = await messaging.jsm.streams.getMessage(topology.chat.stream, { last_by_subj: topology.chat.subject('onair', 'room-1') });
    expect(stored?.json()).toEqual({
      platform: 'onair',
      messageId: `user-1:${clientId}`,
      channelId: 'room-1',
      senderId: 'user-1',
      senderUsername: 'Alice',
      content: 'hello room',
      sentAt: new Date(NOW - 20_000).toISOString(),
      receivedAt: new Date(NOW).toISOString(),
    });
    expect((await post({ messageId: clientId, content: 'hello room' })).json().duplicate).toBe(true);
  });

  it("carries the session's ownership and moderation of this room as roles", async () => {
    const owner = signSessionToken({ id: 'o', name: 'Owner', ownsRooms: ['room-roles'], moderatesRooms: ['elsewhere'] }, SESSION, { nowMs: NOW });
    expect((await post({ content: 'mine' }, { authorization: `Bearer ${owner}` }, 'room-roles')).statusCode).toBe(202);
    const stored = await messaging.jsm.streams.getMessage(topology.chat.stream, { last_by_subj: topology.chat.subject('onair', 'room-roles') });
    expect(stored?.json<{ senderRoles?: string[] }>().senderRoles).toEqual(['broadcaster']);
  });

  it('makes a UUIDv7 from its own clock when the client sends no id', async () => {
    const res = await post({ content: 'no id' });
    expect(res.statusCode).toBe(202);
    const id = (res.json().messageId as string).replace(/^user-1:/, '');
    expect(uuidV7Time(id)).toBe(NOW);
  });

  it.each([
    ['made 301 s ago', NOW - 301_000, 'stale_message_id'],
    ['made 301 s ahead', NOW + 301_000, 'future_message_id'],
  ])('refuses an id %s with 422, publishing nothing', async (_label, at, code) => {
    const before = await streamCount(topology.chat.stream);
    const res = await post({ messageId: uuidV7(at), content: 'late' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe(code);
    expect(await streamCount(topology.chat.stream)).toBe(before);
  });

  it('stores a message from a user with the longest id: the scoped id still passes the contract consumers check', async () => {
    const long = signSessionToken({ id: 'u'.repeat(128), name: 'Long' }, SESSION, { nowMs: NOW });
    const res = await post({ messageId: uuidV7(NOW), content: 'fits' }, { authorization: `Bearer ${long}` }, 'room-long');
    expect(res.statusCode).toBe(202);
    const stored = await messaging.jsm.streams.getMessage(topology.chat.stream, { last_by_subj: topology.chat.subject('onair', 'room-long') });
    // Before ids were bounded with the contract, this message was answered 202 and dead-lettered by every consumer.
    expect(compileValidator(ChatMessage).check(stored?.json())).toBe(true);
  });

  it('answers 401 without a valid session', async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const user = { id: 'u', name: 'n' };
    for (const headers of [
      {} as Record<string, string>,
      bearer('nope'),
      bearer(signSessionToken(user, testSessionKeys('another-secret-of-enough-length!!'), { nowMs: NOW })),
      bearer(signSessionToken(user, { ...SESSION, audience: 'billing' }, { nowMs: NOW })),
      bearer(signSessionToken(user, { ...SESSION, issuer: 'elsewhere' }, { nowMs: NOW })),
      bearer(signSessionToken(user, SESSION, { nowMs: NOW, ttlS: 365 * 86_400 })),
    ]) {
      const res = await post({ content: 'hi' }, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
  });

  it.each([
    [{ content: '' }, 422],
    [{ content: '    ' }, 422],
    [{ content: 'x'.repeat(501) }, 422],
    [{ content: 42 }, 422],
    [{ content: 'ok', messageId: 'has space' }, 422],
    [{ content: 'ok', messageId: 'c-1' }, 422],
    [{ content: 'ok', messageId: '0b8e3e4c-5f1a-4c2b-9d3e-1a2b3c4d5e6f' }, 422],
    [{ content: 'ok', messageId: 7 }, 422],
    [{ content: 'ok', extra: 1 }, 422],
    [{ content: 'bell\u0007' }, 422],
  ])('refuses %j with %i', async (payload, status) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe('validation_failed');
  });

  it("refuses a room id that names a Kick channel's room, publishing nothing", async () => {
    const before = (await messaging.jsm.streams.info(topology.chat.stream)).state.messages;
    const res = await post({ content: 'into a Kick room' }, undefined, 'kick-123');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_room_id');
    expect((await messaging.jsm.streams.info(topology.chat.stream)).state.messages).toBe(before);
    expect((await post({ content: 'a room of our own' }, undefined, 'kick-lounge')).statusCode).toBe(202);
  });

  it('accepts exactly 500 characters, counting emoji as one', async () => {
    expect((await post({ content: '😀'.repeat(500) })).statusCode).toBe(202);
  });

  it('limits the rate per user', async () => {
    const limited = build({ burst: 2 });
    await limited.app.ready();
    const send = (user: string) =>
      limited.app.inject({
        method: 'POST',
        url: '/v1/rooms/room-2/messages',
        payload: { content: 'spam' },
        headers: { authorization: `Bearer ${signSessionToken({ id: user, name: user }, SESSION, { nowMs: NOW })}` },
      });
    expect([(await send('a')).statusCode, (await send('a')).statusCode]).toEqual([202, 202]);
    const third = await send('a');
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect((await send('b')).statusCode).toBe(202);
    await limited.app.close();
  });
});

describe('operations', () => {
  it('serves health, readiness and metrics', async () => {
    expect((await server.app.inject('/healthz')).statusCode).toBe(200);
    expect((await server.app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { nats: true } });
    const metrics = await server.app.inject('/metrics');
    expect(metrics.body).toContain('ingest_kick_webhooks_total{outcome="chat",service="ingest"}');
  });

  it('answers 503 to new work once draining, but keeps /healthz', async () => {
    const draining = build();
    await draining.app.ready();
    draining.startDraining();
    const res = await draining.app.inject({ method: 'POST', url: '/v1/rooms/r/messages', payload: { content: 'x' } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('shutting_down');
    expect((await draining.app.inject('/readyz')).statusCode).toBe(503);
    expect((await draining.app.inject('/healthz')).statusCode).toBe(200);
    await draining.app.close();
  });
});
