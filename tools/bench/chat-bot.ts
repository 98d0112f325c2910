/**
 * `npm run bench:bot` — the chat bot under the capacity plan's hot room: chat at BENCH_BOT_RATE (500)
 * messages/s for BENCH_BOT_SECONDS (60), 5 % of them `!clip` commands from distinct viewers, into a live
 * Kick channel. One bot process and one chat-writer process (Postgres only) read the same stream in the
 * same run; for each, from the real processes:
 *   - lag: from a message's PubAck to the consumer's ack floor passing it (consumer info sampled every 50 ms),
 *     p50 / p99 / max over every message;
 *   - CPU per 1,000 messages: the process's user+system time (/proc/<pid>/stat) over the run.
 * Not a test: it asserts nothing and is never run by `npm test`.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createDb, migrateToLatest } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { publishStored } from '@onair/messaging';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor } from '@onair/service-kit/testing';
import type { ChatMessage } from '@onair/contracts';

const RATE = Number(process.env['BENCH_BOT_RATE'] ?? 500);
const SECONDS = Number(process.env['BENCH_BOT_SECONDS'] ?? 60);
const COMMAND_SHARE = 0.05;
const log = (line: string) => process.stdout.write(`${line}\n`);
const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime, in clock ticks
}

const env = await createTestTopology('bench-bot');
const testDb = await createTestDatabase('bench_bot');
const db = createDb({ url: testDb.url, poolMax: 2 });
const T0 = Date.now();
await migrateToLatest(db.db, new Date(T0));
const common = { NATS_NAMESPACE: env.topology.namespace, DATABASE_URL: testDb.url, CLICKHOUSE_URL: '', LOG_LEVEL: 'warn' };
const bot = await spawnService({
  main: app('chat-bot'),
  port: await freePortForTests(),
  env: { ...common, ADMIN_TOKEN: 'bench-bot-admin-token-0123456789', SESSION_JWT_SECRET: 'bench-bot-session-secret-0123456789' },
});
const writer = await spawnService({ main: app('chat-writer'), port: await freePortForTests(), env: common });
const consumers = { 'chat-bot': env.topology.consumers.chatToBot, 'chat-writer': env.topology.consumers.chatToPostgres } as const;

// The channel is live from now on: the bot places clips from this start.
const channel = '777';
await publishStored(
  env.messaging,
  env.topology.events.subject('kick', channel, 'livestream.status.updated'),
  JSON.stringify({ platform: 'kick', eventId: 'bench-live', type: 'livestream.status.updated', channelId: channel, receivedAt: new Date(T0).toISOString(), data: { broadcaster: { user_id: 777 }, is_live: true, started_at: new Date(T0 - 60_000).toISOString() } }),
  'kick:bench-live',
);
await waitFor(async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM live_streams`.execute(db.db)).rows[0]!.n, (n) => n === 1, { what: 'the stream start' });

// Ack floors sampled all along, to place every message's consumption in time.
const samples: Record<keyof typeof consumers, Array<{ at: number; floor: number }>> = { 'chat-bot': [], 'chat-writer': [] };
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    for (const [name, durable] of Object.entries(consumers) as Array<[keyof typeof consumers, string]>) {
      const info = await env.messaging.jsm.consumers.info(env.topology.chat.stream, durable);
      samples[name].push({ at: performance.now(), floor: info.ack_floor.stream_seq });
    }
    await sleep(50);
  }
})();

log(`bench:bot — ${RATE} chat messages/s for ${SECONDS} s, ${COMMAND_SHARE * 100} % !clip commands; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
const cpuBefore = { 'chat-bot': cpuSeconds(bot.child.pid!), 'chat-writer': cpuSeconds(writer.child.pid!) };
const published: Array<{ seq: number; at: number }> = [];
const total = RATE * SECONDS;
const startedAt = performance.now();
let commands = 0;
const inFlight: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  // Paced: message i goes out at i / RATE seconds after the start (in 10 ms slices).
  const due = startedAt + (i / RATE) * 1000;
  const wait = due - performance.now();
  if (wait > 10) await sleep(wait);
  const isCommand = i % Math.round(1 / COMMAND_SHARE) === 0;
  if (isCommand) commands++;
  const at = Date.now();
  const message: ChatMessage = {
    platform: 'kick',
    messageId: `bench-${i}`,
    channelId: channel,
    senderId: `viewer-${i}`,
    senderUsername: `viewer${i}`,
    content: isCommand ? `!clip ${10 + (i % 60)}` : `chat line ${i} in a busy room, about as long as chat is`,
    sentAt: new Date(at).toISOString(),
    receivedAt: new Date(at).toISOString(),
  };
  const t = performance.now();
  inFlight.push(
    publishStored(env.messaging, env.topology.chat.subject('kick', channel), JSON.stringify(message), `kick:bench-${i}`, 10_000).then((ack) => {
      published.push({ seq: ack.seq, at: t });
    }),
  );
  if (inFlight.length >= 200) await Promise.all(inFlight.splice(0));
}
await Promise.all(inFlight);
const lastSeq = Math.max(...published.map((p) => p.seq));
for (const name of Object.keys(consumers) as Array<keyof typeof consumers>) {
  await waitFor(() => samples[name].at(-1)?.floor ?? 0, (floor) => floor >= lastSeq, { what: `${name} caught up`, timeoutMs: 300_000 });
}
const cpuAfter = { 'chat-bot': cpuSeconds(bot.child.pid!), 'chat-writer': cpuSeconds(writer.child.pid!) };
sampling = false;
await sampler;

function lags(name: keyof typeof consumers): number[] {
  const s = samples[name];
  const out: number[] = [];
  let j = 0;
  for (const p of [...published].sort((a, b) => a.seq - b.seq)) {
    while (j < s.length && s[j]!.floor < p.seq) j++;
    if (j < s.length) out.push(Math.max(0, s[j]!.at - p.at));
  }
  return out.sort((a, b) => a - b);
}
const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

const clips = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM clips`.execute(db.db)).rows[0]!.n;
const rows = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages`.execute(db.db)).rows[0]!.n;
log('');
log('| process | messages | made | lag p50 | lag p99 | lag max | CPU s | CPU ms per 1,000 messages |');
log('|---|---|---|---|---|---|---|---|');
for (const name of Object.keys(consumers) as Array<keyof typeof consumers>) {
  const l = lags(name);
  const cpu = cpuAfter[name] - cpuBefore[name];
  const made = name === 'chat-bot' ? `${clips} clips of ${commands} commands` : `${rows} rows`;
  log(`| ${name} | ${published.length} | ${made} | ${q(l, 0.5).toFixed(0)} ms | ${q(l, 0.99).toFixed(0)} ms | ${l.at(-1)!.toFixed(0)} ms | ${cpu.toFixed(2)} | ${((cpu * 1000) / (published.length / 1000)).toFixed(1)} |`);
}
log('');
log(`lag resolution: consumer ack floors sampled every ~50 ms (plus the round trips of the sampling itself)`);

await Promise.all([bot.kill('SIGTERM'), writer.kill('SIGTERM')]);
await db.close();
await env.cleanup();
await testDb.drop();
process.exit(0);
