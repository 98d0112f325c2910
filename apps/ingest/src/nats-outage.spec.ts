import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectMessaging, ensureStreams, type Messaging } from '@onair/messaging';
import { startPrivateNats } from '@onair/messaging/testing';
import { createTopology, DEFAULT_STREAM_LIMITS, streamDefinitions, uuidV7 } from '@onair/contracts';
import { createMetricsRegistry, type HttpServer } from '@onair/service-kit';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { buildApp } from './app';
import { loadKickKey } from './kick/signature';
import { createRateLimiter } from '@onair/service-kit';
import { createKickSigner } from './testing/kick-signer';

/** NATS is killed under a running ingest: it must answer 503, never 202, and recover when NATS is back. */
const SECRET = 'nats-outage-spec-secret-0123456789abcdef';
const SESSION = testSessionKeys(SECRET);
const topology = createTopology('outage');
let nats: Awaited<ReturnType<typeof startPrivateNats>>;
let messaging: Messaging;
let server: HttpServer;
const token = signSessionToken({ id: 'u1', name: 'U' }, SESSION);

beforeAll(async () => {
  nats = await startPrivateNats();
  messaging = await connectMessaging({ url: nats.url, name: 'ingest-outage', logger: pino({ level: 'silent' }), timeoutMs: 1000 });
  await ensureStreams(messaging.jsm, streamDefinitions(topology, DEFAULT_STREAM_LIMITS));
  server = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('ingest'),
    messaging,
    topology,
    kickKey: loadKickKey(createKickSigner().publicKeyPem),
    session: SESSION,
    rateLimiter: createRateLimiter({ burst: 1000, perSecond: 1 }),
    publishTimeoutMs: 1000,
    kickMaxSkewMs: 300_000,
    messageMaxSkewMs: 300_000,
  });
  await server.app.ready();
});
afterAll(async () => {
  await server?.app.close();
  await messaging?.nc.close();
  await nats?.stop();
});

const post = (messageId: string) =>
  server.app.inject({
    method: 'POST',
    url: '/v1/rooms/r1/messages',
    payload: { messageId, content: 'during outage' },
    headers: { authorization: `Bearer ${token}` },
  });

describe('NATS unreachable', () => {
  it('answers 503 with Retry-After while NATS is down, and 202 once it is back', async () => {
    // Client-made ids (UUIDv7 from the real clock, which this ingest uses too), one per message the client means.
    const ids = { before: uuidV7(Date.now()), down: Array.from({ length: 5 }, () => uuidV7(Date.now())) };
    expect((await post(ids.before)).statusCode).toBe(202);

    await nats.stop();
    // Until the client notices the dead socket a publish waits for its PubAck and times out: either way 503.
    for (let i = 0; i < 5; i++) {
      const res = await post(ids.down[i]!);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json().error.code).toBe('unavailable');
    }
    expect((await server.app.inject('/readyz')).statusCode).toBe(503);

    await nats.start();
    await waitUntil(() => messaging.connected);
    const retried = await post(ids.down[0]!);
    expect(retried.statusCode).toBe(202);
    const stored = await messaging.jsm.streams.info(topology.chat.stream);
    // "before" plus the retry; none of the refused attempts were stored behind the client's back.
    expect(stored.state.messages).toBe(2);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 50));
}
