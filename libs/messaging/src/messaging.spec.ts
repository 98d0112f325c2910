import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { chatToPostgresConsumer, type ConsumerDefinition } from '@onair/contracts';
import { waitFor } from '@onair/service-kit/testing';
import { startBatchConsumer, retryDelayMs, type BatchConsumer } from './batch-consumer';
import { ensureConsumer, ensureStreams } from './ensure';
import { publishStored } from './publish';
import { connectMessaging } from './connection';
import { StreamRejectedError } from './errors';
import { createTestTopology, TEST_NATS_URL } from './testing';
import type { JsMsg } from '@nats-io/jetstream';

let env: Awaited<ReturnType<typeof createTestTopology>>;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  env = await createTestTopology('messaging');
});
afterAll(async () => {
  await env?.cleanup();
});

function definition(durable: string, channel: string): ConsumerDefinition {
  return { ...chatToPostgresConsumer(env.topology), durable, filterSubject: env.topology.chat.subject('kick', channel) };
}

async function publishMany(channel: string, n: number, from = 0) {
  for (let i = from; i < from + n; i++) {
    await publishStored(env.messaging, env.topology.chat.subject('kick', channel), JSON.stringify({ i }), `${channel}-${i}`);
  }
}

describe('ensureStreams', () => {
  it('is idempotent and applies changed limits in place', async () => {
    const { streamDefinitions, DEFAULT_STREAM_LIMITS: production } = await import('@onair/contracts');
    // Production's windows, small byte caps: JetStream reserves every file stream's cap against its storage.
    const DEFAULT_STREAM_LIMITS = { ...production, chatMaxBytes: 256 * 1024 ** 2, eventsMaxBytes: 64 * 1024 ** 2, probesMaxBytes: 64 * 1024 ** 2 };
    const defs = streamDefinitions(env.topology, DEFAULT_STREAM_LIMITS);
    await ensureStreams(env.messaging.jsm, defs);
    expect((await env.messaging.jsm.streams.info(env.topology.chat.stream)).config.duplicate_window).toBe(DEFAULT_STREAM_LIMITS.dedupeWindowMs * 1_000_000);
    await ensureStreams(env.messaging.jsm, streamDefinitions(env.topology, { ...DEFAULT_STREAM_LIMITS, chatMaxBytes: 123_456_789, dedupeWindowMs: 90_000 }));
    const info = await env.messaging.jsm.streams.info(env.topology.chat.stream);
    expect(info.config.max_bytes).toBe(123_456_789);
    expect(info.config.discard).toBe('new');
    expect(info.config.duplicate_window).toBe(90_000_000_000);
    await ensureStreams(env.messaging.jsm, defs);
  });

  it('keeps one copy on a single server and refuses more, naming the stream', async () => {
    const { streamDefinitions, DEFAULT_STREAM_LIMITS } = await import('@onair/contracts');
    expect((await env.messaging.jsm.streams.info(env.topology.chat.stream)).config.num_replicas).toBe(1);
    const defs = streamDefinitions(env.topology, { ...DEFAULT_STREAM_LIMITS, chatMaxBytes: 256 * 1024 ** 2, eventsMaxBytes: 64 * 1024 ** 2, probesMaxBytes: 64 * 1024 ** 2, replicas: 3 });
    const error = await ensureStreams(env.messaging.jsm, defs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamRejectedError);
    expect((error as StreamRejectedError).stream).toBe(env.topology.chat.stream);
    expect((error as Error).message).toBe(`stream ${env.topology.chat.stream}: 3 replicas need a JetStream cluster; this server runs alone`);
    expect((await env.messaging.jsm.streams.info(env.topology.chat.stream)).config.num_replicas).toBe(1);
    // A new stream is refused by the server itself, and the error still names it.
    const fresh = { ...defs[0]!, name: `${env.topology.chat.stream}_R3`, subjects: [`${env.topology.namespace}.r3only`] };
    const refused = await ensureStreams(env.messaging.jsm, [fresh]).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(new RegExp(`^could not create stream ${fresh.name} \\(replicas 3\\): replicas > 1 not supported`));
  });
});

describe('publishStored', () => {
  it('reports a repeated msgID as a duplicate of the stored message', async () => {
    const subject = env.topology.chat.subject('kick', 'pub');
    const first = await publishStored(env.messaging, subject, 'a', 'same-id');
    const second = await publishStored(env.messaging, subject, 'a', 'same-id');
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ seq: first.seq, duplicate: true });
  });

  it('hands back the stream sequence of each stored message, also for many publishes at once', async () => {
    const subject = env.topology.chat.subject('kick', 'seqs');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => publishStored(env.messaging, subject, `m${i}`, `seq-${i}`)));
    const seqs = results.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(200);
    for (const [i, r] of results.entries()) {
      const stored = await env.messaging.jsm.streams.getMessage(env.topology.chat.stream, { seq: r.seq });
      expect(stored?.string()).toBe(`m${i}`);
    }
  });

  it('refuses with rejected when no stream takes the subject', async () => {
    const error = await publishStored(env.messaging, `${env.topology.namespace}.nowhere`, 'x', 'nowhere-1').catch((e) => e);
    expect(error.reason).toBe('rejected');
  });

  it('refuses with timeout when a responder never sends the PubAck', async () => {
    const subject = `${env.topology.namespace}.silent`;
    const silent = env.messaging.nc.subscribe(subject, { callback: () => undefined });
    await env.messaging.nc.flush();
    const error = await publishStored(env.messaging, subject, 'x', 'silent-1', 300).catch((e) => e);
    silent.unsubscribe();
    expect(error.reason).toBe('timeout');
  });

  it('refuses what is waiting for a PubAck with disconnected when the connection closes, and refuses new publishes', async () => {
    const own = await connectMessaging({ url: TEST_NATS_URL, name: 'messaging-spec-close', logger });
    const subject = `${env.topology.namespace}.silent-close`;
    const silent = env.messaging.nc.subscribe(subject, { callback: () => undefined });
    await env.messaging.nc.flush();
    const waiting = publishStored(own, subject, 'x', 'close-1', 60_000).catch((e) => e);
    await own.nc.flush();
    await own.nc.close();
    silent.unsubscribe();
    expect((await waiting).reason).toBe('disconnected');
    expect((await publishStored(own, subject, 'y', 'close-2').catch((e) => e)).reason).toBe('disconnected');
  });

  it('refuses with stream_full when a discard-new stream is at its byte cap', async () => {
    const full = await createTestTopology('messaging-full', { limits: { chatMaxBytes: 1024 * 1024 } });
    const subject = full.topology.chat.subject('kick', 'x');
    const big = 'x'.repeat(100 * 1024);
    const reasons: string[] = [];
    for (let i = 0; i < 15; i++) {
      await publishStored(full.messaging, subject, big, `big-${i}`).catch((error) => reasons.push(error.reason));
    }
    await full.cleanup();
    expect(reasons.length).toBeGreaterThan(0);
    expect(new Set(reasons)).toEqual(new Set(['stream_full']));
  });
});

describe('startBatchConsumer', () => {
  let consumer: BatchConsumer | undefined;
  afterAll(async () => consumer?.stop());

  it('hands a backlog over in batches no larger than maxBatch, and acks them', async () => {
    await publishMany('batches', 1000);
    const sizes: number[] = [];
    consumer = await startBatchConsumer({
      messaging: env.messaging,
      definition: definition('batches', 'batches'),
      deadLetterSubject: env.topology.deadLetter.subject('batches'),
      logger,
      registry: new Registry(),
      maxBatch: 100,
      maxWaitMs: 50,
      concurrency: 2,
      handle: async (batch) => {
        sizes.push(batch.length);
      },
    });
    await waitFor(() => sizes.reduce((a, b) => a + b, 0), (n) => n === 1000, { what: '1000 messages' });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.length).toBeLessThan(1000 / 5);
    await waitFor(async () => (await env.messaging.jsm.consumers.info(env.topology.chat.stream, 'batches')).num_ack_pending, (n) => n === 0, {
      what: 'acks',
    });
    await consumer.stop();
    consumer = undefined;
  });

  it('redelivers a failed batch later and dead-letters what the handler gives up on', async () => {
    await publishMany('retry', 5);
    const attempts = new Map<number, number>();
    const done = new Set<number>();
    consumer = await startBatchConsumer({
      messaging: env.messaging,
      definition: definition('retry', 'retry'),
      deadLetterSubject: env.topology.deadLetter.subject('retry'),
      logger,
      registry: new Registry(),
      maxBatch: 10,
      maxWaitMs: 20,
      concurrency: 1,
      handle: async (batch: JsMsg[], context) => {
        for (const msg of batch) {
          const { i } = msg.json<{ i: number }>();
          attempts.set(i, (attempts.get(i) ?? 0) + 1);
          if (i === 4) await context.deadLetter(msg, 'four is poison');
        }
        // The first delivery of everything fails, like a database outage.
        if (batch.some((m) => m.info.deliveryCount === 1)) throw new Error('database down');
        for (const msg of batch) done.add(msg.json<{ i: number }>().i);
      },
    });
    await waitFor(() => done.size, (n) => n === 4, { what: 'redelivered messages', timeoutMs: 30_000 });
    expect([...done].sort()).toEqual([0, 1, 2, 3]);
    expect(attempts.get(4)).toBe(1);
    const letter = await env.messaging.jsm.streams.getMessage(env.topology.deadLetter.stream, {
      last_by_subj: env.topology.deadLetter.subject('retry'),
    });
    expect(letter?.json()).toMatchObject({ consumer: 'retry', reason: 'four is poison', payload: '{"i":4}' });
    await consumer.stop();
    consumer = undefined;
  });

  it('creates its durable consumer again when it is deleted under it', async () => {
    const seen = new Set<number>();
    const registry = new Registry();
    consumer = await startBatchConsumer({
      messaging: env.messaging,
      definition: definition('recreate', 'recreate'),
      deadLetterSubject: env.topology.deadLetter.subject('recreate'),
      logger,
      registry,
      maxBatch: 10,
      maxWaitMs: 10,
      concurrency: 1,
      handle: async (batch) => {
        for (const msg of batch) seen.add(msg.json<{ i: number }>().i);
      },
    });
    await publishMany('recreate', 3);
    await waitFor(() => seen.size, (n) => n === 3, { what: 'first messages' });
    await env.messaging.jsm.consumers.delete(env.topology.chat.stream, 'recreate');
    await waitFor(
      async () => (await registry.getSingleMetricAsString('consumer_recreated_total')).match(/recreate"?\S* (\d+)/)?.[1],
      (n) => Number(n) >= 1,
      { what: 'the consumer to be recreated', timeoutMs: 90_000 },
    );
    await publishMany('recreate', 3, 3);
    await waitFor(() => seen.size, (n) => n === 6, { what: 'messages after recreation', timeoutMs: 60_000 });
  });

  it('backs off 1 s, 2 s, 4 s … up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});

describe('ensureConsumer', () => {
  it('updates an existing consumer in place', async () => {
    const def = definition('update-me', 'update');
    await ensureConsumer(env.messaging.jsm, def);
    await ensureConsumer(env.messaging.jsm, { ...def, maxAckPending: 77 });
    expect((await env.messaging.jsm.consumers.info(def.stream, def.durable)).config.max_ack_pending).toBe(77);
  });
});

describe('createConsumerSet', () => {
  it('stopped while a consumer is being created: waits for it, stops it, starts no more', async () => {
    const { createConsumerSet } = await import('./consumer-set');
    const set = createConsumerSet();
    const options = (durable: string) => ({
      messaging: env.messaging,
      definition: definition(durable, `set-${durable}`),
      deadLetterSubject: env.topology.deadLetter.subject(durable),
      logger,
      registry: new Registry(),
      maxBatch: 10,
      maxWaitMs: 10,
      concurrency: 1,
      handle: async () => undefined,
    });
    const first = set.start(options('set-first'));
    // The stop arrives before the first consumer exists on the server.
    const stopped = set.stop();
    await first;
    await stopped;
    await set.start(options('set-second'));
    const names: string[] = [];
    for await (const info of env.messaging.jsm.consumers.list(env.topology.chat.stream)) names.push(info.name);
    expect(names).toContain('set-first');
    expect(names).not.toContain('set-second');
    // The connection is still usable: nothing was left racing it.
    expect(env.messaging.connected).toBe(true);
  });
});
