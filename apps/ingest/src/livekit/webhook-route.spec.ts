import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createMetricsRegistry, createRateLimiter, type HttpServer } from '@onair/service-kit';
import { createTestTopology } from '@onair/messaging/testing';
import { buildApp } from '../app';
import { loadKickKey } from '../kick/signature';
import { createKickSigner } from '../testing/kick-signer';
import { signLiveKitWebhook } from '../testing/livekit-signer';
import { testSessionKeys } from '@onair/session/testing';

/** LiveKit webhooks at the edge: signed with our API secret over the exact body, stored once in JetStream. */
const LIVEKIT = { apiKey: 'lk-ingest-key', apiSecret: 'lk-ingest-secret-0123456789abcdef0123' };
/** The events' createdAt (2026-11-23T08:00:00Z); ingest's clock is 30 s later. */
const CREATED_AT_S = 1795435200;
const NOW = CREATED_AT_S * 1000 + 30_000;
let env: Awaited<ReturnType<typeof createTestTopology>>;
let server: HttpServer;

function build(livekit?: typeof LIVEKIT): HttpServer {
  return buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('ingest'),
    messaging: env.messaging,
    topology: env.topology,
    kickKey: loadKickKey(createKickSigner().publicKeyPem),
    session: testSessionKeys('ingest-livekit-spec-secret-0123456789'),
    rateLimiter: createRateLimiter({ burst: 10, perSecond: 1 }),
    publishTimeoutMs: 2000,
    kickMaxSkewMs: 300_000,
    messageMaxSkewMs: 300_000,
    now: () => NOW,
    ...(livekit ? { livekit } : {}),
  });
}

beforeAll(async () => {
  env = await createTestTopology('ingest-livekit');
  server = build(LIVEKIT);
  await server.app.ready();
});
afterAll(async () => {
  await server?.app.close();
  await env?.cleanup();
});

/** A webhook body in LiveKit's JSON form (protobuf JSON: camelCase, int64 as strings). */
function body(id: string, event: string, room = 'studio-1', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event,
    id,
    createdAt: String(CREATED_AT_S),
    ...(room ? { room: { sid: 'RM_abc', name: room, numParticipants: 2, creationTime: '1795435100' } } : {}),
    ...extra,
  });
}

async function post(payload: string, authorization?: string, target = server) {
  return target.app.inject({
    method: 'POST',
    url: '/webhooks/livekit',
    payload,
    headers: { 'content-type': 'application/webhook+json', ...(authorization ? { authorization } : {}) },
  });
}

async function eventsStored(): Promise<number> {
  return (await env.messaging.jsm.streams.info(env.topology.events.stream)).state.messages;
}

describe('POST /webhooks/livekit', () => {
  it('stores a signed participant_joined as a room-state event, once however often LiveKit retries it', async () => {
    const text = body('EV_join1', 'participant_joined', 'studio-1', { participant: { sid: 'PA_1', identity: 'u42', name: 'Ada', state: 'ACTIVE' } });
    const token = await signLiveKitWebhook(text, LIVEKIT);
    const first = await post(text, token);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ accepted: true, duplicate: false });
    const again = await post(text, token);
    expect(again.json()).toEqual({ accepted: true, duplicate: true });

    const subject = env.topology.events.subject('onair', 'studio-1', 'livekit.participant_joined');
    const stored = await env.messaging.jsm.streams.getMessage(env.topology.events.stream, { last_by_subj: subject });
    expect(stored?.json()).toMatchObject({
      platform: 'onair',
      eventId: 'EV_join1',
      type: 'livekit.participant_joined',
      channelId: 'studio-1',
      data: {
        event: 'participant_joined',
        room: { sid: 'RM_abc', name: 'studio-1', numParticipants: 2 },
        participant: { sid: 'PA_1', identity: 'u42', name: 'Ada' },
        createdAt: 1795435200,
      },
    });
    expect(await eventsStored()).toBe(1);
  });

  it('refuses a tampered body, a token from another secret, an expired token and a missing one with 401, publishing nothing', async () => {
    const before = await eventsStored();
    const text = body('EV_t1', 'room_started');
    const token = await signLiveKitWebhook(text, LIVEKIT);

    const tampered = await post(text.replace('studio-1', 'studio-2'), token);
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json()).toEqual({ error: { code: 'invalid_signature', message: expect.any(String) } });

    const forged = await post(text, await signLiveKitWebhook(text, { ...LIVEKIT, apiSecret: 'someone-elses-secret-0123456789abcdef' }));
    expect(forged.json().error.code).toBe('invalid_signature');

    const otherKey = await post(text, await signLiveKitWebhook(text, { ...LIVEKIT, apiKey: 'other-key' }));
    expect(otherKey.json().error.code).toBe('invalid_signature');

    const expired = await post(text, await signLiveKitWebhook(text, LIVEKIT, { expiresInS: -120 }));
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('expired_signature');

    const missing = await post(text);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('missing_signature');

    expect(await eventsStored()).toBe(before);
    // Still serving: the good one goes through.
    expect((await post(text, token)).statusCode).toBe(202);
    expect(await eventsStored()).toBe(before + 1);
  });

  it('answers 202 without publishing for events with no room, and 4xx for signed bodies that are not events', async () => {
    const before = await eventsStored();
    const egress = body('EV_eg1', 'egress_started', '');
    expect((await post(egress, await signLiveKitWebhook(egress, LIVEKIT))).json()).toMatchObject({ ignored: true });

    const badRoom = body('EV_br1', 'room_started', 'no spaces allowed');
    expect((await post(badRoom, await signLiveKitWebhook(badRoom, LIVEKIT))).json()).toMatchObject({ ignored: true });

    const noId = JSON.stringify({ event: 'room_started', room: { name: 'studio-1' } });
    const res = await post(noId, await signLiveKitWebhook(noId, LIVEKIT));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('validation_failed');

    const notJson = '{"event": ';
    const broken = await post(notJson, await signLiveKitWebhook(notJson, LIVEKIT));
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('invalid_json');
    expect(await eventsStored()).toBe(before);
  });

  it('refuses an event whose createdAt is outside the skew bound (a replay JetStream may have forgotten), with 401', async () => {
    const before = await eventsStored();
    for (const [id, createdAt] of [['EV_old', CREATED_AT_S - 400], ['EV_future', CREATED_AT_S + 400]] as const) {
      const text = JSON.stringify({ event: 'room_started', id, createdAt: String(createdAt), room: { sid: 'RM_abc', name: 'studio-1' } });
      const res = await post(text, await signLiveKitWebhook(text, LIVEKIT));
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'stale_timestamp', message: expect.any(String) } });
    }
    expect(await eventsStored()).toBe(before);
  });

  it('refuses a webhook naming a platform room (kick-<id>) with 422 platform_room, publishing nothing', async () => {
    const before = await eventsStored();
    const text = body('EV_kick', 'participant_joined', 'kick-123', { participant: { sid: 'PA_1', identity: 'u42', name: 'Mallory' } });
    const res = await post(text, await signLiveKitWebhook(text, LIVEKIT));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('platform_room');
    expect(await eventsStored()).toBe(before);
  });

  it('answers an unsigned (alg none) token with our own 401, not the library text', async () => {
    const text = body('EV_none', 'room_started');
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: LIVEKIT.apiKey, sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 })}.`;
    const res = await post(text, none);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'invalid_signature', message: 'The webhook token does not match this body' } });
  });

  it('answers 503 livekit_not_configured when no API credentials are set', async () => {
    const bare = build();
    await bare.app.ready();
    const text = body('EV_nc', 'room_started');
    const res = await post(text, await signLiveKitWebhook(text, LIVEKIT), bare);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('livekit_not_configured');
    await bare.app.close();
  });
});
