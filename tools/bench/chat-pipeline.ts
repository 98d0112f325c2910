/**
 * `npm run bench:chat` — one run, figures side by side (the machines are noisy; compare ratios):
 *   1. chat-writer's drain rate: 200k messages queued in JetStream, drained into Postgres (each write
 *      method and batch size), end to end from the stream to committed rows;
 *   2. the raw limit: the same rows COPYed straight into the table by one client, no NATS;
 *   3. the per-row baseline: one synchronous INSERT per message (the receiver this replaces);
 *   4. ingest: accepted signed webhooks per second with p50/p99 latency, next to the baseline receiver
 *      (signature check + one INSERT per webhook).
 * Not a test: it asserts nothing and is never run by `npm test`.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { pino } from 'pino';
import { from as copyFrom } from 'pg-copy-streams';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { startBatchConsumer } from '@onair/messaging';
import { createTestTopology } from '@onair/messaging/testing';
import { chatToPostgresConsumer } from '@onair/contracts';
import { createMetricsRegistry } from '@onair/service-kit';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { buildApp as buildChatWriter } from '../../apps/chat-writer/src/app';
import { decodeChatBatch } from '../../apps/chat-writer/src/decode';
import { chatMessage, publishChat } from '../../apps/chat-writer/src/testing/chat-fixtures';
import { runLoad } from './load';

const DRAIN_ROWS = Number(process.env['BENCH_DRAIN_ROWS'] ?? 200_000);
const PER_ROW_ROWS = Number(process.env['BENCH_PER_ROW_ROWS'] ?? 20_000);
const INGEST_REQUESTS = Number(process.env['BENCH_INGEST_REQUESTS'] ?? 40_000);
const INGEST_CONNECTIONS = Number(process.env['BENCH_INGEST_CONNECTIONS'] ?? 32);

const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const testDb = await createTestDatabase('bench_chat');
const handle = createDb({ url: testDb.url, poolMax: 8 });
await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
const count = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages`.execute(handle.db)).rows[0]!.n;
// The fixtures' five channels belong to streamers, as a deployment's do, so each drain also keeps their
// last activity (chat-writer's throttled UPDATE per batch); each run starts from none.
await sql`INSERT INTO streamers (display_name) SELECT 'bench ' || g FROM generate_series(0, 4) g`.execute(handle.db);
await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) SELECT id, 'kick', 'c-' || (id - 1), 'c' || id FROM streamers`.execute(handle.db);
const truncate = async () => {
  await sql`TRUNCATE chat_messages`.execute(handle.db);
  await sql`UPDATE streamers SET last_activity_at = NULL, last_activity_kind = NULL`.execute(handle.db);
};
const rows = Array.from({ length: DRAIN_ROWS }, (_, i) => chatMessage(i));

log(`onair chat pipeline benchmark — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
log('');

// 2. Raw COPY limit: one client, 1000-row chunks, straight into chat_messages.
await truncate();
const copyRate = await timeRows(DRAIN_ROWS, async () => {
  const client = await handle.pool.connect();
  try {
    const stream = client.query(
      copyFrom('COPY chat_messages (platform, message_id, channel_id, sender_id, sender_username, content, sent_at, received_at) FROM STDIN'),
    );
    await pipeline(Readable.from(copyText(rows)), stream);
  } finally {
    client.release();
  }
});
log(`raw COPY, one client, no NATS           ${fmt(copyRate)} rows/s`);

// 3. Per-row baseline: one synchronous INSERT per message, one connection.
await truncate();
const perRow = rows.slice(0, PER_ROW_ROWS);
const perRowRate = await timeRows(perRow.length, async () => {
  for (const m of perRow) {
    await handle.pool.query(
      `INSERT INTO chat_messages (platform, message_id, channel_id, sender_id, sender_username, content, sent_at, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [m.platform, m.messageId, m.channelId, m.senderId, m.senderUsername, m.content, m.sentAt, m.receivedAt],
    );
  }
});
log(`one INSERT per message, sequential     ${fmt(perRowRate)} rows/s   (${fmt(PER_ROW_ROWS)} rows)`);
log('');

// 1. chat-writer drain: queue everything first, then time from consumer start to the last commit.
log(`chat-writer drain of ${fmt(DRAIN_ROWS)} queued messages (stream → Postgres, committed and acked):`);
log('  method  batch  concurrency  rows/s     ÷ raw COPY  × per-row');
let transportRate = 0;
const drains: Array<{ method: 'unnest' | 'copy'; max: number; concurrency: number; rate: number }> = [];
for (const [method, max, concurrency] of [
  ['copy', 1000, 2],
  ['unnest', 1000, 2],
  ['copy', 500, 2],
  ['copy', 2000, 2],
  ['copy', 1000, 1],
  ['copy', 1000, 4],
] as const) {
  await truncate();
  const env = await createTestTopology('bench-drain', { limits: { chatMaxBytes: 4 * 1024 ** 3 } });
  await publishChat(env.messaging, env.topology, rows, 1000);
  const writer = buildChatWriter({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('chat-writer'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    batch: { max, waitMs: 50, concurrency, method },
  });
  const rate = await timeRows(DRAIN_ROWS, async () => {
    await writer.startPostgres();
    await waitFor(count, (n) => n >= DRAIN_ROWS, { timeoutMs: 600_000, intervalMs: 20, what: 'drain' });
  });
  await writer.stop();
  await env.cleanup();
  drains.push({ method, max, concurrency, rate });
  log(`  ${method.padEnd(7)} ${String(max).padStart(5)}  ${String(concurrency).padStart(11)}  ${fmt(rate).padStart(9)}   ${(rate / copyRate).toFixed(2).padStart(6)}     ${(rate / perRowRate).toFixed(1).padStart(6)}`);
}

// 1a. The transport's own ceiling in this run: the same 200k messages through the same batch consumer
// (as chat-writer's defaults configure it), decoded and acked, written nowhere. The drain can be no
// faster than this on the same cores.
{
  const env = await createTestTopology('bench-transport', { limits: { chatMaxBytes: 4 * 1024 ** 3 } });
  await publishChat(env.messaging, env.topology, rows, 1000);
  const definition = chatToPostgresConsumer(env.topology);
  let handled = 0;
  let consumer: Awaited<ReturnType<typeof startBatchConsumer>> | undefined;
  const rate = await timeRows(DRAIN_ROWS, async () => {
    consumer = await startBatchConsumer({
      messaging: env.messaging,
      definition,
      deadLetterSubject: env.topology.deadLetter.subject(definition.durable),
      logger: pino({ level: 'silent' }),
      registry: createMetricsRegistry('bench'),
      maxBatch: 2000,
      maxWaitMs: 50,
      concurrency: 2,
      handle: async (batch, context) => {
        handled += (await decodeChatBatch(batch, context)).length;
      },
    });
    await waitFor(async () => handled, (n) => n >= DRAIN_ROWS, { timeoutMs: 600_000, intervalMs: 20, what: 'transport drain' });
  });
  await consumer?.stop();
  await env.cleanup();
  transportRate = rate;
  log(`  ${'(none: consume, decode, ack; no Postgres)'.padEnd(42)} ${fmt(rate).padStart(6)}   ${(rate / copyRate).toFixed(2).padStart(6)}     ${(rate / perRowRate).toFixed(1).padStart(6)}   ← transport ceiling`);
}

// 1b. The same drain by chat-writer processes (main.ts, as deployed): one, then two sharing the durable
// consumer. The drain is bound by per-message NATS work in one thread, so replicas are how it scales.
for (const processes of [1, 2]) {
  await truncate();
  const env = await createTestTopology('bench-drain-procs', { limits: { chatMaxBytes: 4 * 1024 ** 3 } });
  await publishChat(env.messaging, env.topology, rows, 1000);
  // Timed from when every process answers /healthz (tsx start-up and connecting are not the drain),
  // over the rows still to write then.
  const writers: SpawnedService[] = await Promise.all(
    Array.from({ length: processes }, async () =>
      spawnService({
        main: fileURLToPath(new URL('../../apps/chat-writer/src/main.ts', import.meta.url)),
        port: await freePortForTests(),
        env: {
          NATS_NAMESPACE: env.topology.namespace,
          DATABASE_URL: testDb.url,
          CLICKHOUSE_URL: '',
          CHAT_MAX_BYTES: String(4 * 1024 ** 3),
          CHAT_BATCH_MAX: '2000',
          CHAT_WRITE_CONCURRENCY: '2',
          CHAT_WRITE_METHOD: 'copy',
          LOG_LEVEL: 'warn',
          // As deploy/k8s/chat-writer.yaml runs it: larger semi-spaces, far fewer scavenges.
          NODE_OPTIONS: '--max-semi-space-size=64',
        },
      }),
    ),
  );
  const before = await count();
  const rate = await timeRows(DRAIN_ROWS - before, async () => {
    await waitFor(count, (n) => n >= DRAIN_ROWS, { timeoutMs: 600_000, intervalMs: 20, what: 'drain' });
  });
  await Promise.all(writers.map((w) => w.kill('SIGTERM')));
  await env.cleanup();
  log(`  copy     2000            2  ${fmt(rate).padStart(9)}   ${(rate / copyRate).toFixed(2).padStart(6)}     ${(rate / perRowRate).toFixed(1).padStart(6)}   ← ${processes} chat-writer process${processes > 1 ? 'es' : ''} (main.ts), ${(rate / transportRate).toFixed(2)} of the transport ceiling`);
}
log('');

// 4. Ingest under concurrent load, next to the baseline receiver.
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signed = (prefix: string) =>
  Array.from({ length: INGEST_REQUESTS }, (_, i) => {
    const id = `${prefix}-${i}`;
    const ts = new Date().toISOString();
    const body = JSON.stringify({
      message_id: id,
      broadcaster: { user_id: 1000 + (i % 50), username: 'streamer', channel_slug: 'streamer' },
      sender: { user_id: 5000 + (i % 997), username: `viewer${i % 997}`, channel_slug: 'viewer' },
      content: `benchmark message ${i} with a few words of chat`,
      emotes: [],
      created_at: ts,
    });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'kick-event-message-id': id,
        'kick-event-message-timestamp': ts,
        'kick-event-signature': sign('sha256', Buffer.from(`${id}.${ts}.${body}`), privateKey).toString('base64'),
        'kick-event-type': 'chat.message.sent',
      },
    };
  });

/** Runs a receiver process, warms it up, then measures it under the same load. */
async function measureReceiver(main: string, env: Record<string, string>, prefix: string) {
  const port = await freePortForTests();
  const receiver = await spawnService({ main: fileURLToPath(new URL(main, import.meta.url)), port, env });
  const url = `http://127.0.0.1:${port}/webhooks/kick`;
  await runLoad(url, signed(`${prefix}-warm`).slice(0, 2000), INGEST_CONNECTIONS);
  const result = await runLoad(url, signed(prefix), INGEST_CONNECTIONS);
  await receiver.kill('SIGTERM');
  return result;
}

const ingestEnv = await createTestTopology('bench-ingest', { limits: { chatMaxBytes: 4 * 1024 ** 3 } });
const ours = await measureReceiver('../../apps/ingest/src/main.ts', {
  NATS_NAMESPACE: ingestEnv.topology.namespace,
  KICK_PUBLIC_KEY: publicPem,
  SESSION_JWT_SECRET: 'bench-secret-0123456789abcdefghijklmnop',
  LOG_LEVEL: 'warn',
}, 'ingest');
await ingestEnv.cleanup();
await truncate();
const base = await measureReceiver('./baseline-receiver.ts', { DATABASE_URL: testDb.url, KICK_PUBLIC_KEY: publicPem }, 'base');
const empty = await measureReceiver('./empty-receiver.ts', {}, 'empty');

log(`ingest, ${fmt(INGEST_REQUESTS)} signed chat webhooks over ${INGEST_CONNECTIONS} keep-alive connections (load client on the same machine):`);
log('                                 req/s     p50 ms  p99 ms  errors');
const line = (label: string, r: typeof ours) =>
  log(`  ${label.padEnd(28)} ${fmt(r.perSecond).padStart(7)}   ${r.p50Ms.toFixed(2).padStart(6)}  ${r.p99Ms.toFixed(2).padStart(6)}  ${r.errors}`);
line('ingest → JetStream PubAck', ours);
line('baseline: INSERT per webhook', base);
line('ceiling: empty handler', empty);
log(`  ratio ingest ÷ baseline      ${(ours.perSecond / base.perSecond).toFixed(2)}×`);
log(`  ratio ingest ÷ ceiling       ${(ours.perSecond / empty.perSecond).toFixed(2)}`);

await handle.close();
await testDb.drop();
process.exit(0);

async function timeRows(n: number, work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return n / ((performance.now() - t0) / 1000);
}

function* copyText(messages: typeof rows): Generator<string> {
  let chunk = '';
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    chunk += `${m.platform}\t${m.messageId}\t${m.channelId}\t${m.senderId}\t${m.senderUsername}\t${m.content}\t${m.sentAt}\t${m.receivedAt}\n`;
    if (i % 1000 === 999) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export type { Db };
