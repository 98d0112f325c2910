import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { publishStored } from '@onair/messaging';
import { createTestTopology } from '@onair/messaging/testing';
import { ConfigError, createMetricsRegistry, createRateLimiter, type HttpServer } from '@onair/service-kit';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { uuidV7 } from '@onair/contracts';
import { buildApp } from './app';
import { parseIngestConfig } from './config';
import { loadKickKey } from './kick/signature';
import { createKickSigner, kickChatBody } from './testing/kick-signer';

/**
 * Once means once, however late the retry: the windows are shortened (a 2 s duplicate window, 1 s skew
 * bounds, the same 2:1 ratio ingest's config enforces) so the tests wait seconds, not minutes. Retries come
 * after JetStream has really forgotten the id (the test proves it has), and are still not stored again.
 */
const WINDOW_MS = 2_000;
const SKEW_MS = 1_000;
const SESSION = testSessionKeys('dedupe-spec-secret-0123456789abcdef');
const signer = createKickSigner();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: Awaited<ReturnType<typeof createTestTopology>>;
let server: HttpServer;
/** Ingest's clock: the real one plus an offset the tests move ("an hour later"). */
let offsetMs = 0;
const now = () => Date.now() + offsetMs;

beforeAll(async () => {
  env = await createTestTopology('ingest-dedupe', { limits: { dedupeWindowMs: WINDOW_MS } });
  server = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('ingest'),
    messaging: env.messaging,
    topology: env.topology,
    kickKey: loadKickKey(signer.publicKeyPem),
    session: SESSION,
    rateLimiter: createRateLimiter({ burst: 1000, perSecond: 1000 }),
    publishTimeoutMs: 2000,
    kickMaxSkewMs: SKEW_MS,
    messageMaxSkewMs: SKEW_MS,
    now,
  });
  await server.app.ready();
});
afterAll(async () => {
  await server?.app.close();
  await env?.cleanup();
});

const count = async (stream: string) => (await env.messaging.jsm.streams.info(stream)).state.messages;

function kick(body: unknown, id: string, type: string, timestamp: string) {
  const text = JSON.stringify(body);
  return server.app.inject({ method: 'POST', url: '/webhooks/kick', payload: text, headers: signer.headers(text, { id, type, timestamp }) });
}

describe('a first-party retry after the duplicate window', () => {
  it('is one message: duplicate inside the window, refused (and not stored) after it, an hour later too', async () => {
    offsetMs = 0;
    const token = signSessionToken({ id: 'ada', name: 'Ada' }, SESSION, { nowMs: Date.now() });
    const clientId = uuidV7(Date.now());
    const post = () =>
      server.app.inject({
        method: 'POST',
        url: '/v1/rooms/r1/messages',
        payload: { messageId: clientId, content: 'hello once' },
        headers: { authorization: `Bearer ${token}` },
      });
    const before = await count(env.topology.chat.stream);
    expect((await post()).json()).toMatchObject({ accepted: true, duplicate: false });
    expect((await post()).json()).toMatchObject({ accepted: true, duplicate: true });

    await sleep(WINDOW_MS + 300);
    const late = await post();
    expect(late.statusCode).toBe(422);
    expect(late.json().error.code).toBe('stale_message_id');
    offsetMs = 3_600_000;
    expect((await post()).json().error.code).toBe('stale_message_id');
    offsetMs = 0;
    expect(await count(env.topology.chat.stream)).toBe(before + 1);

    // JetStream itself has forgotten the id by now: publishing it raw is taken as new. Without ingest's
    // bound on the id's age, the late retry above would have been a second message.
    const raw = await publishStored(env.messaging, env.topology.chat.subject('onair', 'probe'), '{}', `onair:ada:${clientId}`, 2000);
    expect(raw.duplicate).toBe(false);
  });
});

describe('a signed Kick webhook replayed byte for byte', () => {
  it.each([
    ['chat.message.sent', () => kickChatBody('replayed-chat'), 'chat'],
    [
      'kicks.gifted',
      () => ({
        broadcaster: { user_id: 42, username: 'streamer', channel_slug: 'streamer' },
        sender: { is_anonymous: false, user_id: 7, username: 'fan', is_verified: false, profile_picture: null, channel_slug: 'fan' },
        gift: { amount: 100, name: 'Full Send', type: 'BASIC', tier: 'BASIC', message: 'gg', pinned_time_seconds: 0 },
        created_at: new Date().toISOString(),
      }),
      'events',
    ],
  ] as const)('%s is stored once: duplicate while the signature is valid, refused as stale after', async (type, body, stream) => {
    offsetMs = 0;
    const name = stream === 'chat' ? env.topology.chat.stream : env.topology.events.stream;
    const before = await count(name);
    const payload = body();
    const id = `evt-replay-${type}`;
    const timestamp = new Date().toISOString();
    expect((await kick(payload, id, type, timestamp)).json()).toEqual({ accepted: true, duplicate: false });

    // Half a skew later the signature still passes: the replay is recognised, not stored again.
    await sleep(SKEW_MS / 2);
    const replay = await kick(payload, id, type, timestamp);
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toEqual({ accepted: true, duplicate: true });

    // After the duplicate window the id is forgotten, but the timestamp is past the skew: refused.
    await sleep(WINDOW_MS);
    const stale = await kick(payload, id, type, timestamp);
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.code).toBe('stale_timestamp');
    expect(await count(name)).toBe(before + 1);
  });
});

describe('config', () => {
  const base = {
    SESSION_JWT_SECRET: 'config-spec-secret-0123456789abcdefghij',
    KICK_PUBLIC_KEY: signer.publicKeyPem,
  };
  it('refuses a duplicate window shorter than twice the widest skew (replays would be stored twice)', () => {
    expect(() => parseIngestConfig({ ...base, DEDUPE_WINDOW_S: '599' })).toThrow(ConfigError);
    expect(() => parseIngestConfig({ ...base, DEDUPE_WINDOW_S: '700', MESSAGE_MAX_SKEW_S: '400' })).toThrow(/DEDUPE_WINDOW_S/);
    expect(parseIngestConfig({ ...base, DEDUPE_WINDOW_S: '600' }).DEDUPE_WINDOW_S).toBe(600);
    expect(parseIngestConfig(base).DEDUPE_WINDOW_S).toBe(660);
  });
});
