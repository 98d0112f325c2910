/**
 * `npm run bench:realtime` — the realtime gateway under load, with raw Soketi as the baseline, in one run.
 * Real processes on this machine: ingest, the gateway and 1–2 Soketi nodes (NATS adapter), load clients in
 * child processes holding raw Pusher-protocol sockets. Latency is end to end: the chat message's send time
 * (stamped in its content when the load tool POSTs it to ingest) to its arrival on a socket.
 *
 *   A   one hot room, RATE chat messages/s through ingest: a step ramp of sockets on one node
 *       (1,000 → 2,500 → 5,000), then 10,000 over two nodes joined by the NATS adapter; each step next
 *       to raw Soketi (events triggered straight at the same rate and size).
 *   W   the coalescing window: the hot room at 1,000 sockets with windows 0 … 200 ms.
 *   B   3,900 rooms × 5 sockets, a modest chat rate spread over the rooms, two nodes.
 *   T   LiveKit join tokens minted per second (one core).
 *   M   Soketi memory per idle socket: 10,000 subscribed sockets on a fresh node, read after the
 *       connection storm and once the process has settled.
 *   J   join storm: a room whose stream holds JOIN_FILL (1,000,000) messages and receives JOIN_LIVE_RATE (500)
 *       messages/s; JOIN_RATE (100) joins/s for JOIN_S (60) s, each a real pusher-js client + room feed
 *       (`createRoomFeed`, history 50: the page's `?limit=50` + a socket subscribe), closed after its first
 *       render. Join → first render p50/p99, history requests, JetStream and Postgres round trips and
 *       gateway CPU per join. Baseline: the same storm in a room whose stream held 50 messages.
 *   R   reconnect storm: RECONNECT_SOCKETS (2,000) room feeds in the hot room (RECONNECT_RATE messages/s) on
 *       Soketi node 1 of two (NATS adapter, node count from Soketi's own NATS account as deployed), each
 *       through a small TCP front (node 1, else node 2); node 1 is SIGKILLed: time until every feed is live
 *       again (resubscribed and backfilled), messages lost or shown twice (by sequence, against every
 *       PubAck), history requests per reconnect, peak gateway CPU. Synchronized (reconnectJitterMs 0, no
 *       reconnect jitter) next to the page's jitter (3 s + 1 s).
 *       Sized so no feed needs to skip: a feed backfills at most maxBackfill (1,000, the gateway's largest
 *       page) messages, and the page's jittered reconnect is away up to ~5 s (detection ~1 s + 0-3 s +
 *       connect), so the room runs at 100 messages/s (10 s of chat per page). At the hot room's 500/s the
 *       hole is 2,500 messages: feeds jump and record the gap, by design; and 2,000 pusher-js clients on
 *       this machine's 2 cores do not keep up with 500/s (their sockets time out), so the figures would be
 *       the load clients'.
 *
 * Options (env): BENCH_RT_SCENARIOS (default "T,M,A,W,B"), BENCH_RT_STEP_S (10), BENCH_RT_RATE (500),
 * BENCH_RT_B_RATE (200), BENCH_RT_A_STEPS ("1000,2500,5000"), BENCH_RT_A2_SOCKETS (10000),
 * BENCH_RT_B_ROOMS (3900), BENCH_RT_MEASURE_EVERY (20: one socket in N records latencies in the hot room),
 * BENCH_RT_JOIN_FILL (1000000), BENCH_RT_JOIN_RATE (100), BENCH_RT_JOIN_S (60), BENCH_RT_JOIN_LIVE_RATE (500),
 * BENCH_RT_JOIN_WORKERS (2), BENCH_RT_RECONNECT_SOCKETS (2000), BENCH_RT_RECONNECT_RATE (100),
 * BENCH_RT_RECONNECT_MAX_BACKFILL (1000, the gateway's largest page; the page's default is 200), BENCH_RT_RECONNECT_KEEP (2000: 20 s at 100/s, a page and 10 s of live events; 2,000 feeds × keep objects are the load clients' heap),
 * BENCH_RT_RECONNECT_TAIL (10000), BENCH_RT_RECONNECT_WINDOW_MS (500), BENCH_RT_RECONNECT_WORKERS (4), BENCH_RT_RECONNECT_MODES ("sync,jitter").
 * Not a test: it asserts nothing and is never run by `npm test`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Pusher from 'pusher';
import pg from 'pg';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { chatToGatewayConsumer } from '@onair/contracts';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { chatRow } from '@onair/room-client';
import { joinToken } from '../../apps/realtime-gateway/src/livekit';
import { startPrivateSoketi, type PrivateSoketi } from '../../apps/realtime-gateway/src/testing/soketi';
import { createHistogram, merge, percentile, total } from './histogram';
import { procDelta, procSample } from './proc-stats';
import { startSoketiNats, type SoketiNats } from './soketi-nats';
import type { WorkerCommand, WorkerReport } from './socket-worker';
import type { FeedWorkerCommand, JoinReport, SettleReport, StatusReport, VerifyReport } from './feed-worker';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const SCENARIOS = env('BENCH_RT_SCENARIOS', 'T,M,A,W,B,J,R').toUpperCase().split(',');
const STEP_S = Number(env('BENCH_RT_STEP_S', '10'));
const RATE = Number(env('BENCH_RT_RATE', '500'));
const B_RATE = Number(env('BENCH_RT_B_RATE', '200'));
const A_STEPS = env('BENCH_RT_A_STEPS', '1000,2500,5000').split(',').map(Number);
const SKIP_A1 = process.env['BENCH_RT_SKIP_A1'] === '1';
const A2_SOCKETS = Number(env('BENCH_RT_A2_SOCKETS', '10000'));
const B_ROOMS = Number(env('BENCH_RT_B_ROOMS', '3900'));
const MEASURE_EVERY = Number(env('BENCH_RT_MEASURE_EVERY', '20'));
const WINDOWS = [0, 25, 50, 100, 200];
const JOIN_FILL = Number(env('BENCH_RT_JOIN_FILL', '1000000'));
const JOIN_RATE = Number(env('BENCH_RT_JOIN_RATE', '100'));
const JOIN_S = Number(env('BENCH_RT_JOIN_S', '60'));
const JOIN_LIVE_RATE = Number(env('BENCH_RT_JOIN_LIVE_RATE', '500'));
const JOIN_WORKERS = Number(env('BENCH_RT_JOIN_WORKERS', '2'));
const RECONNECT_SOCKETS = Number(env('BENCH_RT_RECONNECT_SOCKETS', '2000'));
const RECONNECT_RATE = Number(env('BENCH_RT_RECONNECT_RATE', '100'));
const RECONNECT_MAX_BACKFILL = Number(env('BENCH_RT_RECONNECT_MAX_BACKFILL', '1000'));
const RECONNECT_KEEP = Number(env('BENCH_RT_RECONNECT_KEEP', '2000'));
/**
 * The gateway's per-room tail in R (production: 200). No chat-writer runs here, so what is older than the
 * tail would come from a 1,000-read walk of the stream instead of production's one Postgres read; a tail
 * holding the whole reconnect window (100 s at 100 messages/s) answers every backfill from memory, as
 * Postgres would in one read.
 */
const RECONNECT_TAIL = Number(env('BENCH_RT_RECONNECT_TAIL', '10000'));
/**
 * The gateway's coalescing window in R (production: 100 ms). Each feed is a pusher-js client parsing every
 * event: 2,000 of them at 10 events/s took ~1.3 of this machine's 2 cores before the storm, and the storm
 * (2,000 reconnects and backfill pages) then starved them: reconnect times were the load clients'. At 500 ms
 * (2 events/s, the same messages) they leave the cores to what is measured.
 */
const RECONNECT_WINDOW_MS = Number(env('BENCH_RT_RECONNECT_WINDOW_MS', '500'));
const RECONNECT_WORKERS = Number(env('BENCH_RT_RECONNECT_WORKERS', '4'));
/** How long the check waits for every feed to show the last message published (late, not lost). */
const SETTLE_MS = Number(env('BENCH_RT_SETTLE_MS', '180000'));
const RECONNECT_MODES = env('BENCH_RT_RECONNECT_MODES', 'sync,jitter').split(',');
const SESSION_SECRET = 'bench-realtime-session-secret-0123456789';
const SESSION = testSessionKeys(SESSION_SECRET);
const APP = { id: 'bench', key: 'bench-key', secret: 'bench-secret' };

const log = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const main = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));

log(`onair realtime load — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; step ${STEP_S} s`);
log('');

// ---------------------------------------------------------------------------------------------- T
if (SCENARIOS.includes('T')) {
  const config = { url: 'wss://livekit.example', apiKey: 'bench-key', apiSecret: 'bench-secret-0123456789abcdef0123456789', ttlS: 3600 };
  const user = { id: 'viewer-1', name: 'Viewer', ownsRooms: [], moderatesRooms: [] };
  for (let i = 0; i < 500; i++) await joinToken(config, user, 'warmup');
  const started = performance.now();
  let minted = 0;
  while (performance.now() - started < 3000) {
    await joinToken(config, user, `room-${minted % 100}`);
    minted++;
  }
  log(`T  LiveKit join tokens (livekit-server-sdk AccessToken, HS256), one core: ${fmt(minted / ((performance.now() - started) / 1000))} tokens/s`);
  log('');
}
if (!SCENARIOS.some((s) => ['M', 'A', 'W', 'B', 'J', 'R'].includes(s))) process.exit(0);

// ---------------------------------------------------------------------------------------------- setup
/** Everything started, so Ctrl-C (or a crash) leaves no Soketi, service or client process behind. */
const children = new Set<{ kill(): unknown }>();
const killAll = () => {
  for (const c of children) c.kill();
};
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
async function soketiNode(options: Parameters<typeof startPrivateSoketi>[0]) {
  const node = await startPrivateSoketi(options);
  children.add({
    kill: () => {
      try {
        process.kill(node.pid, 'SIGKILL');
      } catch {
        // already stopped
      }
    },
  });
  return node;
}
// The join storm's room holds JOIN_FILL messages (~250 B each, ~330 B stored): the chat stream's cap grows with it.
// The services are given the same cap, so their start does not raise it to production's 8 GiB (JetStream
// reserves a stream's max_bytes against the server's storage, shared with every other test stream).
const CHAT_MAX_BYTES = SCENARIOS.includes('J') ? Math.max(256 * 1024 ** 2, JOIN_FILL * 600) : 256 * 1024 ** 2;
const topology = await createTestTopology('bench-realtime', { limits: { chatMaxBytes: CHAT_MAX_BYTES } });
const testDb = await createTestDatabase('bench_realtime');
const ingestPort = await freePortForTests();
const ingest = await spawnService({
  main: main('ingest'),
  port: ingestPort,
  env: {
    NATS_NAMESPACE: topology.topology.namespace,
    SESSION_JWT_SECRET: SESSION_SECRET,
    // Kick webhooks are not part of this load; ingest still wants a key to start.
    KICK_PUBLIC_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ROOM_RATE_BURST: '10000',
    ROOM_RATE_PER_S: '10000',
    CHAT_MAX_BYTES: String(CHAT_MAX_BYTES),
    LOG_LEVEL: 'warn',
  },
});
children.add(ingest.child);
const tokens = Array.from({ length: 50 }, (_, i) => signSessionToken({ id: `u${i}`, name: `user${i}` }, SESSION, { ttlS: 86_400 }));
const agent = new Agent({ keepAlive: true, maxSockets: 32 });

let gateway: { service: SpawnedService; url: string } | undefined;
async function startGateway(soketi: PrivateSoketi, windowMs: number, extraEnv: Record<string, string> = {}) {
  await gateway?.service.kill('SIGTERM');
  const port = await freePortForTests();
  const service = await spawnService({
    main: main('realtime-gateway'),
    port,
    env: {
      NATS_NAMESPACE: topology.topology.namespace,
      DATABASE_URL: testDb.url,
      SESSION_JWT_SECRET: SESSION_SECRET,
      PUSHER_APP_ID: APP.id,
      PUSHER_APP_KEY: APP.key,
      PUSHER_APP_SECRET: APP.secret,
      PUSHER_HOST: '127.0.0.1',
      PUSHER_PORT: String(soketi.port),
      COALESCE_WINDOW_MS: String(windowMs),
      // Every load client shares 127.0.0.1: the per-address history budget would refuse the storms.
      HISTORY_RATE_BURST: '100000',
      HISTORY_RATE_PER_S: '100000',
      CHAT_MAX_BYTES: String(CHAT_MAX_BYTES),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
  });
  children.add(service.child);
  gateway = { service, url: `http://127.0.0.1:${port}` };
}

async function gatewayCounter(name: string, label: string): Promise<number> {
  const text = await (await fetch(`${gateway!.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

// ---------------------------------------------------------------------------------------------- clients
const tsx = createRequire(import.meta.url).resolve('tsx');
let workers: ChildProcess[] = [];
function ask<T>(worker: ChildProcess, command: WorkerCommand, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== reply) return;
      worker.off('message', onMessage);
      resolve(message as T);
    };
    worker.on('message', onMessage);
    worker.send(command);
  });
}
function startWorkers(n: number) {
  workers = Array.from({ length: n }, () => fork(fileURLToPath(new URL('./socket-worker.ts', import.meta.url)), [], { execArgv: ['--import', tsx] }));
  for (const w of workers) children.add(w);
}
async function stopWorkers() {
  await Promise.all(workers.map((w) => new Promise((resolve) => { w.once('exit', resolve); w.send({ type: 'close' }); })));
  workers = [];
}
/** Connects sockets, spread over the workers; returns how many subscribed. */
async function connectSockets(sockets: Array<{ port: number; channel: string; measure: boolean }>) {
  const parts = workers.map((_, i) => sockets.filter((__, j) => j % workers.length === i));
  const results = await Promise.all(workers.map((w, i) => ask<{ ok: number; failed: number }>(w, { type: 'connect', key: APP.key, sockets: parts[i]! }, 'connected')));
  return { ok: results.reduce((a, r) => a + r.ok, 0), failed: results.reduce((a, r) => a + r.failed, 0) };
}
async function collect(reset = true) {
  const reports = await Promise.all(workers.map((w) => ask<WorkerReport>(w, { type: 'report', reset }, 'report')));
  const histogram = createHistogram();
  for (const r of reports) merge(histogram, r.histogram);
  const sum = (k: 'open' | 'frames' | 'messages' | 'errors' | 'closes') => reports.reduce((a, r) => a + r[k], 0);
  return { histogram, open: sum('open'), frames: sum('frames'), messages: sum('messages'), errors: sum('errors'), closes: sum('closes') };
}

// ---------------------------------------------------------------------------------------------- load
// Chat lines average a few dozen characters: the stamp plus padding makes 40, so an event of 50 messages
// is ~8 KB, as a hot room's really are.
const PAD = 'x'.repeat(40 - 'lt:1795458756000 '.length);
/** A chat message as the gateway fans it out (a room message's id is a UUID, as ingest makes them). */
const sampleItem = (seq: number, content: string) => ({ seq, id: crypto.randomUUID(), platform: 'onair', sender: { id: 'u12', name: 'user12' }, content, sentAt: new Date().toISOString() });
/** Bytes one message adds to a `chat` event. */
const ROW_BYTES = JSON.stringify(chatRow(sampleItem(12_345_678, `lt:${Date.now()} ${PAD}`))).length + 1;
/** POSTs `rate` chat messages per second for `seconds` to ingest, each stamped with its send time. */
async function sendChat(rate: number, seconds: number, room: () => string) {
  const perRoom = new Map<string, number>();
  let accepted = 0;
  let failed = 0;
  let sent = 0;
  const started = performance.now();
  const inflight = new Set<Promise<void>>();
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const target = room();
      const body = JSON.stringify({ content: `lt:${Date.now()} ${PAD}` });
      const p = new Promise<void>((resolve) => {
        const req = request(
          { agent, host: '127.0.0.1', port: ingestPort, method: 'POST', path: `/v1/rooms/${target}/messages`, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[sent % tokens.length]}`, 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 202) {
                accepted++;
                perRoom.set(target, (perRoom.get(target) ?? 0) + 1);
              } else failed++;
              resolve();
            });
          },
        );
        req.on('error', () => {
          failed++;
          resolve();
        });
        req.end(body);
      });
      inflight.add(p);
      void p.then(() => inflight.delete(p));
    }
    await sleep(5);
  }
  await Promise.all(inflight);
  return { accepted, failed, perRoom, seconds: (performance.now() - started) / 1000 };
}

/**
 * Triggers chat-shaped events straight at Soketi: the same events/s and messages per event as the gateway
 * sent, with no ingest, JetStream or gateway in between.
 */
async function triggerRaw(soketi: PrivateSoketi, channel: string, eventsPerSecond: number, messagesPerEvent: number, seconds: number) {
  const pusher = new Pusher({ appId: APP.id, key: APP.key, secret: APP.secret, host: '127.0.0.1', port: String(soketi.port), useTLS: false });
  let sent = 0;
  let messages = 0;
  let failed = 0;
  const started = performance.now();
  const inflight: Promise<unknown>[] = [];
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * eventsPerSecond);
    for (; sent < due; sent++) {
      const now = Date.now();
      // Stamped as an ideal coalescer's messages would be: spread over the interval the event gathers, so
      // raw Soketi pays the same coalescing wait and the difference is the gateway's own cost.
      const interval = 1000 / eventsPerSecond;
      const stamp = (i: number) => Math.round(now - ((messagesPerEvent - 1 - i) / messagesPerEvent) * interval);
      const items = Array.from({ length: messagesPerEvent }, (_, i) => sampleItem(sent * 1000 + i, `lt:${stamp(i)} ${PAD}`));
      messages += items.length;
      // The gateway's wire form (rows), so both sides pay Soketi the same bytes per recipient.
      inflight.push(pusher.trigger(channel, 'chat', { seq: [items[0]!.seq, items.at(-1)!.seq], platform: 'onair', messages: items.map(chatRow) }).catch(() => failed++));
    }
    await sleep(2);
  }
  await Promise.all(inflight);
  return { events: sent, messages, failed };
}

interface Step {
  label: string;
  sockets: number;
  lat: { p50: number; p95: number; p99: number; n: number };
  delivered: number;
  triggersPerS: number;
  eventsPerS: number;
  errors: number;
  gatewayCpu: number;
  gatewayRss: number;
  soketi: Array<{ cpuPct: number; cpuS: number; rssMb: number }>;
  framesPerS: number;
  soketiCpuPerFrameUs: number;
  /** CPU the load clients spent per event they received: on this machine they share the cores with Soketi. */
  clientCpuPerFrameUs: number;
}

function latencies(histogram: Uint32Array) {
  return { p50: percentile(histogram, 0.5), p95: percentile(histogram, 0.95), p99: percentile(histogram, 0.99), n: total(histogram) };
}

/**
 * Between steps: drop any backlog left in the chat stream (an overloaded step, e.g. a 0 ms window, leaves
 * one that would otherwise land on the next step) and wait until the sockets have gone quiet.
 */
async function settle() {
  await topology.messaging.jsm.streams.purge(topology.topology.chat.stream);
  for (let i = 0; i < 60; i++) {
    await sleep(1_000);
    if ((await collect(true)).frames === 0) return;
  }
}

/** Runs chat through ingest → gateway → Soketi for one step and reads every figure. */
async function gatewayStep(label: string, nodes: PrivateSoketi[], sockets: number, measuredPerRoom: (room: string) => number, rate: number, room: () => string): Promise<Step> {
  await settle();
  const [triggers0, events0] = [await gatewayCounter('gateway_triggers_total', 'outcome="ok"'), await gatewayCounter('gateway_events_total', 'event="chat"')];
  const counted = performance.now();
  const clientCpu = () => workers.reduce((a, w) => a + procSample(w.pid!).cpuS, 0);
  const before = { gw: procSample(gateway!.service.child.pid!), nodes: nodes.map((n) => procSample(n.pid)), clients: clientCpu() };
  const sent = await sendChat(rate, STEP_S, room);
  await sleep(2_000); // the last coalescing windows and socket writes
  const after = { gw: procSample(gateway!.service.child.pid!), nodes: nodes.map((n) => procSample(n.pid)), clients: clientCpu() };
  const [triggers1, events1] = [await gatewayCounter('gateway_triggers_total', 'outcome="ok"'), await gatewayCounter('gateway_events_total', 'event="chat"')];
  const r = await collect(true);
  if (sent.failed || r.errors || r.closes) log(`  (${sent.failed} chat POSTs refused, ${r.errors} socket errors, ${r.closes} sockets closed)`);
  let expected = 0;
  for (const [target, n] of sent.perRoom) expected += n * measuredPerRoom(target);
  const gw = procDelta(before.gw, after.gw);
  const soketi = nodes.map((n, i) => procDelta(before.nodes[i]!, after.nodes[i]!));
  const seconds = sent.seconds;
  // Rates over the whole time the counters were read across, the drain included.
  const countedS = (performance.now() - counted) / 1000;
  const soketiCpuS = soketi.reduce((a, s) => a + s.cpuS, 0);
  return {
    label,
    sockets,
    lat: latencies(r.histogram),
    delivered: expected ? r.messages / expected : Number.NaN,
    triggersPerS: (triggers1 - triggers0) / countedS,
    eventsPerS: (events1 - events0) / countedS,
    errors: sent.failed + r.errors + r.closes,
    gatewayCpu: gw.cpuPct,
    gatewayRss: gw.rssMb,
    soketi,
    framesPerS: r.frames / seconds,
    soketiCpuPerFrameUs: r.frames ? (1e6 * soketiCpuS) / r.frames : Number.NaN,
    clientCpuPerFrameUs: r.frames ? (1e6 * (after.clients - before.clients)) / r.frames : Number.NaN,
  };
}

async function rawStep(label: string, nodes: PrivateSoketi[], channel: string, eventsPerS: number, messagesPerEvent: number, measured: number) {
  await settle();
  const before = nodes.map((n) => procSample(n.pid));
  const sent = await triggerRaw(nodes[0]!, channel, eventsPerS, messagesPerEvent, STEP_S);
  await sleep(2_000);
  const soketi = nodes.map((n, i) => procDelta(before[i]!, procSample(n.pid)));
  const r = await collect(true);
  return { label, lat: latencies(r.histogram), delivered: r.messages / (sent.messages * measured), errors: sent.failed + r.errors + r.closes, soketi, framesPerS: r.frames / STEP_S };
}

const HEAD = '  step                          sockets  p50 ms  p95 ms  p99 ms  delivered   trig/s  events/s  errors  gateway cpu/rss      soketi cpu/rss (per node)';
function printStep(s: Step) {
  log(
    `  ${s.label.padEnd(30)}${fmt(s.sockets).padStart(7)}${fmt(s.lat.p50).padStart(8)}${fmt(s.lat.p95).padStart(8)}${fmt(s.lat.p99).padStart(8)}` +
      `${(fmt(100 * s.delivered, 3) + ' %').padStart(11)}${fmt(s.triggersPerS, 1).padStart(9)}${fmt(s.eventsPerS, 1).padStart(10)}${fmt(s.errors).padStart(8)}` +
      `   ${fmt(s.gatewayCpu).padStart(3)} % ${fmt(s.gatewayRss).padStart(4)} MB     ${s.soketi.map((n) => `${fmt(n.cpuPct)} % ${fmt(n.rssMb)} MB`).join(' | ')}`,
  );
}
function printRaw(r: Awaited<ReturnType<typeof rawStep>>, sockets: number) {
  log(
    `  ${r.label.padEnd(30)}${fmt(sockets).padStart(7)}${fmt(r.lat.p50).padStart(8)}${fmt(r.lat.p95).padStart(8)}${fmt(r.lat.p99).padStart(8)}` +
      `${(fmt(100 * r.delivered, 3) + ' %').padStart(11)}${'–'.padStart(9)}${'–'.padStart(10)}${fmt(r.errors).padStart(8)}` +
      `   ${'–'.padStart(16)}     ${r.soketi.map((n) => `${fmt(n.cpuPct)} % ${fmt(n.rssMb)} MB`).join(' | ')}`,
  );
}

const hot = 'hot';
const hotChannel = `room-${hot}`;
const summary: string[] = [];

// ---------------------------------------------------------------------------------------------- M
if (SCENARIOS.includes('M')) {
  const IDLE = 10_000;
  log(`M  Soketi memory per idle socket: ${fmt(IDLE)} sockets subscribed to rooms on a fresh node, no traffic (RSS from /proc)`);
  log('  rooms        connect s   RSS before   after the storm        after a quiet minute');
  for (const rooms of [100, 1]) {
    const node = await soketiNode({ app: APP });
    await sleep(2_000);
    const before = procSample(node.pid).rssMb;
    startWorkers(2);
    const started = performance.now();
    const c = await connectSockets(Array.from({ length: IDLE }, (_, i) => ({ port: node.port, channel: `room-idle${i % rooms}`, measure: false })));
    const connectS = (performance.now() - started) / 1000;
    const storm = procSample(node.pid).rssMb;
    // V8 gives the handshakes' garbage back to the OS only some tens of seconds later (measured: flat
    // for 10–20 s, then down by a third): the settled figure is the reading after a quiet minute.
    let settled = storm;
    for (let i = 0; i < 12; i++) {
      await sleep(5_000);
      settled = procSample(node.pid).rssMb;
    }
    const open = (await collect(false)).open;
    const perSocket = (mb: number) => `${fmt(((mb - before) * 1024) / open, 1)} KB/socket`;
    log(`  ${fmt(rooms).padStart(5)}${fmt(connectS, 1).padStart(14)}${`${fmt(before)} MB`.padStart(13)}   ${`${fmt(storm)} MB = ${perSocket(storm)}`.padEnd(26)}${`${fmt(settled)} MB = ${perSocket(settled)}`}${open < c.ok ? ` (${c.ok - open} closed meanwhile)` : ''}`);
    summary.push(`Soketi memory per idle socket (${fmt(open)} sockets in ${fmt(rooms)} room${rooms > 1 ? 's' : ''}, one node): ${perSocket(storm)} right after connecting, ${perSocket(settled)} settled`);
    await stopWorkers();
    await node.stop();
  }
  log('');
}

// ---------------------------------------------------------------------------------------------- A (one node) + W
if ((SCENARIOS.includes('A') && !SKIP_A1) || SCENARIOS.includes('W')) {
  const node = await soketiNode({ app: APP });
  await startGateway(node, 100);
  startWorkers(2);
  log(`A  one hot room, ${RATE} chat messages/s through ingest, one Soketi node (latency on 1 socket in ${MEASURE_EVERY})`);
  log(HEAD);
  let connected = 0;
  let measured = 0;
  let healthy: Step | undefined;
  for (const target of SCENARIOS.includes('A') ? A_STEPS : [A_STEPS[0]!]) {
    const add = Array.from({ length: target - connected }, (_, i) => ({ port: node.port, channel: hotChannel, measure: (connected + i) % MEASURE_EVERY === 0 }));
    measured += add.filter((s) => s.measure).length;
    const c = await connectSockets(add);
    connected += c.ok;
    if (c.failed) log(`  (${c.failed} sockets failed to connect)`);
    if (SCENARIOS.includes('W') && target === A_STEPS[0]) {
      const windows: Step[] = [];
      for (const w of WINDOWS) {
        await startGateway(node, w);
        windows.push(await gatewayStep(`window ${w} ms`, [node], connected, () => measured, RATE, () => hot));
        printStep(windows.at(-1)!);
      }
      await startGateway(node, 100);
    }
    if (!SCENARIOS.includes('A')) break;
    const step = await gatewayStep(`gateway (window 100 ms)`, [node], connected, () => measured, RATE, () => hot);
    printStep(step);
    const raw = await rawStep('raw Soketi, ideal coalescer', [node], hotChannel, step.eventsPerS, Math.max(1, Math.round(RATE / Math.max(1, step.eventsPerS))), measured);
    printRaw(raw, connected);
    log(`  ${''.padEnd(30)}gateway adds p50 ${fmt(step.lat.p50 - raw.lat.p50)} ms, p99 ${fmt(step.lat.p99 - raw.lat.p99)} ms over raw Soketi; Soketi CPU ${fmt(step.soketiCpuPerFrameUs, 1)} µs per delivered event`);
    summary.push(
      `A ${fmt(connected)} sockets, one node: p50 ${fmt(step.lat.p50)} ms, p99 ${fmt(step.lat.p99)} ms, delivered ${fmt(100 * step.delivered, 3)} %, ${fmt(step.triggersPerS, 1)} triggers/s; raw Soketi p99 ${fmt(raw.lat.p99)} ms`,
    );
    // The per-recipient cost comes from a step Soketi kept up with (everything delivered within the step).
    if (step.delivered >= 0.999) healthy = step;
  }
  if (healthy) {
    const perEvent = RATE / Math.max(1, healthy.eventsPerS);
    summary.push(`Soketi CPU per delivered event (${fmt(perEvent)} messages, ≈ ${fmt((perEvent * ROW_BYTES) / 1024, 1)} KB), at ${fmt(healthy.sockets)} sockets: ${fmt(healthy.soketiCpuPerFrameUs, 1)} µs`);
    const perNodePerS = 0.7e6 / healthy.soketiCpuPerFrameUs; // a node kept at 70 % of its one core
    summary.push(
      `⇒ one node delivers ≈ ${fmt(perNodePerS)} such events/s at 70 % of a core; a 10,000-viewer hot room at ${fmt(healthy.eventsPerS, 1)} events/s is ${fmt(10_000 * healthy.eventsPerS)} deliveries/s = ${fmt((10_000 * healthy.eventsPerS) / perNodePerS, 1)} nodes`,
    );
    // What this one machine can show at all: every delivery costs Soketi and the receiving load client.
    const perDeliveryUs = healthy.soketiCpuPerFrameUs + healthy.clientCpuPerFrameUs;
    const machineMax = (cpus().length * 1e6) / perDeliveryUs;
    summary.push(
      `this machine's ceiling: Soketi ${fmt(healthy.soketiCpuPerFrameUs, 1)} µs + load client ${fmt(healthy.clientCpuPerFrameUs, 1)} µs per delivered event on ${cpus().length} cores ⇒ at most ${fmt(machineMax)} deliveries/s with nothing else running; ` +
        `the hot room at 5,000 sockets needs ${fmt(5_000 * healthy.eventsPerS)}/s, at 10,000 ${fmt(10_000 * healthy.eventsPerS)}/s`,
    );
  }
  await stopWorkers();
  await node.stop();
  log('');
}

// ---------------------------------------------------------------------------------------------- A2 (two nodes)
/**
 * Two Soketi nodes joined by the NATS adapter, set up as deployed: no fixed node count, the adapter counts
 * its own NATS account's connections (startSoketiNats), and waits 2 s (the deploy's
 * SOKETI_ADAPTER_NATS_REQUESTS_TIMEOUT) for answers that do not come. A fixed count of 2 kept the killed
 * node in R: every socket that moved to the survivor waited the 5 s default on it.
 */
let soketiNats: SoketiNats | undefined;
async function twoNodes() {
  if (!soketiNats) {
    soketiNats = await startSoketiNats();
    const pid = soketiNats.pid;
    children.add({ kill: () => { try { process.kill(pid, 'SIGKILL'); } catch { /* already stopped */ } } });
  }
  const natsAdapter = { ...soketiNats.adapter, prefix: `bench_${process.pid}_${crypto.randomUUID().slice(0, 8)}`, requestsTimeoutMs: 2_000 };
  return [await soketiNode({ app: APP, natsAdapter }), await soketiNode({ app: APP, natsAdapter })];
}
if (SCENARIOS.includes('A')) {
  const nodes = await twoNodes();
  await startGateway(nodes[0]!, 100);
  startWorkers(2);
  const sockets = Array.from({ length: A2_SOCKETS }, (_, i) => ({ port: nodes[i % 2]!.port, channel: hotChannel, measure: i % MEASURE_EVERY === 0 }));
  const measured = sockets.filter((s) => s.measure).length;
  const c = await connectSockets(sockets);
  log(`A2 the hot room, ${RATE} messages/s, ${fmt(c.ok)} sockets over two Soketi nodes (NATS adapter)${c.failed ? `, ${c.failed} failed to connect` : ''}`);
  log(HEAD);
  const step = await gatewayStep('gateway (window 100 ms)', nodes, c.ok, () => measured, RATE, () => hot);
  printStep(step);
  const raw = await rawStep('raw Soketi, ideal coalescer', nodes, hotChannel, step.eventsPerS, Math.max(1, Math.round(RATE / Math.max(1, step.eventsPerS))), measured);
  printRaw(raw, c.ok);
  summary.push(`A ${fmt(c.ok)} sockets, two nodes: p50 ${fmt(step.lat.p50)} ms, p99 ${fmt(step.lat.p99)} ms, delivered ${fmt(100 * step.delivered, 3)} %; raw Soketi p99 ${fmt(raw.lat.p99)} ms`);
  await stopWorkers();
  await Promise.all(nodes.map((n) => n.stop()));
  log('');
}

// ---------------------------------------------------------------------------------------------- B
if (SCENARIOS.includes('B')) {
  const nodes = await twoNodes();
  await startGateway(nodes[0]!, 100);
  startWorkers(4);
  const rooms = Array.from({ length: B_ROOMS }, (_, i) => `b${i}`);
  const sockets = rooms.flatMap((room, r) => Array.from({ length: 5 }, (_, k) => ({ port: nodes[(r * 5 + k) % 2]!.port, channel: `room-${room}`, measure: true })));
  const c = await connectSockets(sockets);
  log(`B  ${fmt(B_ROOMS)} rooms × 5 sockets (${fmt(c.ok)} connected${c.failed ? `, ${c.failed} failed` : ''}) over two nodes, ${B_RATE} chat messages/s spread over the rooms`);
  log(HEAD);
  let next = 0;
  const step = await gatewayStep('gateway (window 100 ms)', nodes, c.ok, () => 5, B_RATE, () => rooms[(next = (next + 7919) % rooms.length)]!);
  printStep(step);
  summary.push(`B ${fmt(c.ok)} sockets in ${fmt(B_ROOMS)} rooms: p50 ${fmt(step.lat.p50)} ms, p99 ${fmt(step.lat.p99)} ms, delivered ${fmt(100 * step.delivered, 3)} %`);
  await stopWorkers();
  await Promise.all(nodes.map((n) => n.stop()));
  log('');
}

// ---------------------------------------------------------------------------------------------- J, R helpers
const js = topology.messaging.js;
const chatStream = topology.topology.chat.stream;
/** A chat message as ingest publishes it (no msgID: dedupe is not what is measured, and the fill would hold 1 M ids). */
const idPrefix = crypto.randomUUID().slice(0, 24);
const chatPayload = (room: string, n: number) =>
  JSON.stringify({
    platform: 'onair',
    messageId: `u${n % 50}:${idPrefix}${room}${String(n).padStart(12, '0')}`,
    channelId: room,
    senderId: `u${n % 50}`,
    senderUsername: `user${n % 50}`,
    content: `lt:${Date.now()} ${PAD}`,
    sentAt: new Date().toISOString(),
    receivedAt: new Date().toISOString(),
  });
/** Publishes `count` messages to a room with up to `window` in flight (a sliding window); returns messages/s. */
async function fillRoom(room: string, count: number, window = 4_000) {
  const subject = topology.topology.chat.subject('onair', room);
  const started = performance.now();
  let sent = 0;
  let acked = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const next = () => {
      while (sent < count && sent - acked < window) {
        sent++;
        js.publish(subject, chatPayload(room, sent)).then(
          () => done(),
          () => {
            failed++;
            done();
          },
        );
      }
    };
    const done = () => {
      acked++;
      if (acked % 100_000 === 0) log(`  … ${fmt(acked)} published (${fmt(acked / ((performance.now() - started) / 1000))}/s)`);
      if (acked === count) resolve();
      else if (sent - acked < window / 2) next();
    };
    next();
  });
  if (failed) log(`  (${fmt(failed)} publishes failed)`);
  return count / ((performance.now() - started) / 1000);
}
/** A room's live chat, published straight to JetStream at `rate`/s; `stop()` returns every PubAck's sequence. */
function liveChat(room: string, rate: number) {
  const subject = topology.topology.chat.subject('onair', room);
  const seqs: number[] = [];
  let failed = 0;
  let running = true;
  const started = performance.now();
  const inflight = new Set<Promise<unknown>>();
  const loop = (async () => {
    let sent = 0;
    while (running) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; sent < due; sent++) {
        const p = js.publish(subject, chatPayload(room, 1e11 + sent)).then((ack) => seqs.push(ack.seq), () => failed++);
        inflight.add(p);
        void p.then(() => inflight.delete(p));
      }
      await sleep(5);
    }
    await Promise.all(inflight);
  })();
  return {
    seqs,
    async stop() {
      running = false;
      await loop;
      return { seqs: seqs.sort((a, b) => a - b), failed };
    },
  };
}
/** The gateway's durable fan-out consumer, made to start after what the stream holds now (as a gateway that was caught up). */
async function gatewayConsumerFromNow() {
  const durable = topology.topology.consumers.chatToGateway;
  await topology.messaging.jsm.consumers.delete(chatStream, durable).catch(() => undefined);
  const info = await topology.messaging.jsm.streams.info(chatStream);
  const def = chatToGatewayConsumer(topology.topology);
  await topology.messaging.jsm.consumers.add(chatStream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: info.state.last_seq + 1,
    ack_wait: nanos(def.ackWaitMs),
    max_deliver: def.maxDeliver,
    max_ack_pending: def.maxAckPending,
  });
  return info.state;
}
/** The gateway's JetStream API requests on this run's stream, by kind (a core subscription sees every request). */
function countJetStreamApi() {
  const counts = new Map<string, number>();
  const sub = topology.messaging.nc.subscribe('$JS.API.>', {
    callback: (_err, msg) => {
      if (!msg.subject.includes(chatStream)) return;
      const kind = msg.subject.slice('$JS.API.'.length, msg.subject.indexOf(chatStream) - 1);
      if (kind === 'CONSUMER.MSG.NEXT') return; // the consumers' pulls: fan-out and tail, not history
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    },
  });
  return {
    snapshot: () => new Map(counts),
    stop: () => sub.unsubscribe(),
  };
}
const diffCounts = (a: Map<string, number>, b: Map<string, number>) => {
  const out = new Map<string, number>();
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) > 0) out.set(k, v - (a.get(k) ?? 0));
  return out;
};
/** Transactions committed in the bench's database (the gateway is its only client): Postgres round trips. */
const pgAdmin = new pg.Client({ connectionString: Object.assign(new URL(testDb.url), { pathname: '/postgres' }).toString() });
let pgConnected = false;
async function postgresXacts(): Promise<number> {
  if (!pgConnected) {
    await pgAdmin.connect();
    pgConnected = true;
  }
  await pgAdmin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pgAdmin.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [new URL(testDb.url).pathname.slice(1)]);
  return Number(rows[0]?.n ?? 0);
}
async function historyCounters() {
  const text = await (await fetch(`${gateway!.url}/metrics`)).text();
  const read = (name: string, label: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const sources = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^gateway_history_reads_total\{.*source="([^"]+)".*\} (\S+)/.exec(line);
    if (m) sources.set(m[1]!, Number(m[2]));
  }
  let windows = 0;
  const events = new Map<string, number>();
  for (const line of text.split('\n')) {
    // The registry adds its own default labels: read ours wherever they sit.
    if (/^gateway_chat_windows_total[ {]/.test(line)) windows = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('gateway_chat_events_total{')) {
      const label = (name: string) => new RegExp(`${name}="([^"]+)"`).exec(line)?.[1];
      events.set(`${label('prev')}/${label('whole')}`, Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  }
  return { read: read('gateway_history_requests_total', 'how="read"'), shared: read('gateway_history_requests_total', 'how="shared"'), sources, windows, events };
}
let feedWorkers: ChildProcess[] = [];
function startFeedWorkers(n: number) {
  feedWorkers = Array.from({ length: n }, () => fork(fileURLToPath(new URL('./feed-worker.ts', import.meta.url)), [], { execArgv: ['--import', tsx] }));
  for (const w of feedWorkers) children.add(w);
}
async function stopFeedWorkers() {
  await Promise.all(feedWorkers.map((w) => new Promise((resolve) => { w.once('exit', resolve); w.send({ type: 'close' }); })));
  feedWorkers = [];
}
const askAll = <T,>(command: FeedWorkerCommand | ((i: number) => FeedWorkerCommand), reply: string) =>
  Promise.all(feedWorkers.map((w, i) => ask<T>(w, (typeof command === 'function' ? command(i) : command) as unknown as WorkerCommand, reply)));
const feedCpu = () => feedWorkers.reduce((a, w) => a + procSample(w.pid!).cpuS, 0);

// ---------------------------------------------------------------------------------------------- J
if (SCENARIOS.includes('J')) {
  log(`J  join storm: ${fmt(JOIN_RATE)} joins/s for ${JOIN_S} s (pusher-js + createRoomFeed, history 50, closed after the first render), rooms at ${fmt(JOIN_LIVE_RATE)} messages/s`);
  await gateway?.service.kill('SIGTERM');
  gateway = undefined;
  const node = await soketiNode({ app: APP });
  const fillStarted = performance.now();
  const fillRate = await fillRoom('big', JOIN_FILL);
  await fillRoom('small', 50);
  const state = await gatewayConsumerFromNow();
  log(`  stream filled: 'big' ${fmt(JOIN_FILL)} messages in ${fmt((performance.now() - fillStarted) / 1000, 1)} s (${fmt(fillRate)}/s, one connection); 'small' 50; stream ${fmt(state.messages)} messages, ${fmt(state.bytes / 1024 ** 2)} MB`);
  await startGateway(node, 100);
  const api = countJetStreamApi();
  const rows: string[] = [];
  const HEADJ = '  room                      joins  rendered  p50 ms  p95 ms  p99 ms  max ms  hist req/join  reads/join (by source)        JS API/join   PG xact/join  gw cpu/join  gw cpu     soketi cpu/join  clients cpu/join';
  const results: Array<{ room: string; p99: number }> = [];
  for (const [room, held] of [['big', JOIN_FILL], ['small', 50]] as const) {
    const live = liveChat(room, JOIN_LIVE_RATE);
    await sleep(3_000); // the tail holds the room's newest messages; the gateway is fanning it out
    // The room's live traffic alone, for the gateway CPU a join adds on top.
    const q0 = procSample(gateway!.service.child.pid!);
    await sleep(10_000);
    const quiet = procDelta(q0, procSample(gateway!.service.child.pid!));
    startFeedWorkers(JOIN_WORKERS);
    // Warm-up (not counted): the clients' and the gateway's code paths compiled, connections open.
    await askAll<JoinReport>({ type: 'join', key: APP.key, wsPort: node.port, gatewayUrl: gateway!.url, roomId: room, rate: JOIN_RATE / JOIN_WORKERS, seconds: 3 }, 'joined');
    await sleep(1_000);
    const [h0, a0, x0] = [await historyCounters(), api.snapshot(), await postgresXacts()];
    const before = { gw: procSample(gateway!.service.child.pid!), node: procSample(node.pid), clients: feedCpu() };
    const reports = await askAll<JoinReport>({ type: 'join', key: APP.key, wsPort: node.port, gatewayUrl: gateway!.url, roomId: room, rate: JOIN_RATE / JOIN_WORKERS, seconds: JOIN_S }, 'joined');
    const after = { gw: procSample(gateway!.service.child.pid!), node: procSample(node.pid), clients: feedCpu() };
    await live.stop();
    await sleep(11_000); // Postgres publishes a backend's counters when it has been idle ~1-10 s
    const [h1, a1, x1] = [await historyCounters(), api.snapshot(), await postgresXacts()];
    await stopFeedWorkers();
    const histogram = createHistogram();
    for (const r of reports) merge(histogram, r.histogram);
    const ok = reports.reduce((a, r) => a + r.ok, 0);
    const failed = reports.reduce((a, r) => a + r.failed, 0);
    const joins = ok + failed;
    const lat = latencies(histogram);
    let max = 0;
    for (let ms = histogram.length - 1; ms >= 0; ms--) if (histogram[ms]) { max = ms; break; }
    const gw = procDelta(before.gw, after.gw);
    const gwCpuPerJoinMs = (1000 * (gw.cpuS - (quiet.cpuPct / 100) * ((after.gw.at - before.gw.at) / 1000))) / joins;
    const requests = h1.read + h1.shared - h0.read - h0.shared;
    const reads = [...h1.sources].map(([k, v]) => [k, v - (h0.sources.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
    const apiCalls = diffCounts(a0, a1);
    const apiTotal = [...apiCalls.values()].reduce((a, b) => a + b, 0);
    rows.push(
      `  ${`${room} (${fmt(held)} held)`.padEnd(24)}${fmt(joins).padStart(7)}${fmt(ok).padStart(10)}${fmt(lat.p50).padStart(8)}${fmt(lat.p95).padStart(8)}${fmt(lat.p99).padStart(8)}${fmt(max).padStart(8)}` +
        `${fmt(requests / joins, 3).padStart(15)}  ${`${fmt((h1.read - h0.read) / joins, 3)} (${reads.map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || '–'}; ${fmt(h1.shared - h0.shared)} shared)`.padEnd(30)}` +
        `${fmt(apiTotal / joins, 3).padStart(11)}${fmt((x1 - x0) / joins, 3).padStart(15)}${`${fmt(gwCpuPerJoinMs, 2)} ms`.padStart(13)}${`${fmt(gw.cpuPct)} % (${fmt(quiet.cpuPct)} % live only)`.padStart(24)}` +
        `${`${fmt((1000 * (after.node.cpuS - before.node.cpuS)) / joins, 2)} ms`.padStart(17)}${`${fmt((1000 * (after.clients - before.clients)) / joins, 2)} ms`.padStart(18)}`,
    );
    if (apiTotal) rows.push(`  ${''.padEnd(24)}JetStream API requests on the chat stream: ${[...apiCalls].map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
    log(HEADJ);
    for (const r of rows.splice(0)) log(r);
    results.push({ room, p99: lat.p99 });
    summary.push(
      `J ${room} room (${fmt(held)} messages held), ${fmt(JOIN_RATE)} joins/s: join → first render p50 ${fmt(lat.p50)} / p99 ${fmt(lat.p99)} ms, ${fmt(ok)}/${fmt(joins)} rendered, ${fmt(requests / joins, 3)} history requests/join, ` +
        `${fmt(apiTotal / joins, 3)} JetStream + ${fmt((x1 - x0) / joins, 3)} Postgres round trips/join, gateway ${fmt(gwCpuPerJoinMs, 2)} ms CPU/join`,
    );
  }
  if (results.length === 2) summary.push(`J join p99 ratio, ${fmt(JOIN_FILL)}-message room ÷ 50-message room: ${fmt(results[0]!.p99 / Math.max(1, results[1]!.p99), 2)}`);
  api.stop();
  await node.stop();
  log('');
}

// ---------------------------------------------------------------------------------------------- R
if (SCENARIOS.includes('R')) {
  log(`R  reconnect storm: ${fmt(RECONNECT_SOCKETS)} room feeds (pusher-js + createRoomFeed, maxBackfill ${fmt(RECONNECT_MAX_BACKFILL)}, keep ${fmt(RECONNECT_KEEP)}) on node 1 of two, the room at ${fmt(RECONNECT_RATE)} messages/s, gateway window ${RECONNECT_WINDOW_MS} ms; node 1 SIGKILLed`);
  log('  mode                                                    feeds  live again: p50 ms  p99 ms  all ms   lost  doubled  gaps (msgs skipped)  hist req/reconnect  gw cpu peak (0.5 s)  errors');
  for (const mode of RECONNECT_MODES) {
    const sync = mode === 'sync';
    const nodes = await twoNodes();
    // The gateway triggers at the node that survives (in production: a Soketi service behind a balancer).
    await startGateway(nodes[1]!, RECONNECT_WINDOW_MS, { HISTORY_TAIL_PER_ROOM: String(RECONNECT_TAIL) });
    const live = liveChat(hot, RECONNECT_RATE);
    await sleep(2_000);
    startFeedWorkers(RECONNECT_WORKERS);
    const per = Math.ceil(RECONNECT_SOCKETS / RECONNECT_WORKERS);
    const heldReports = await askAll<{ ok: number; failed: number }>(
      (i) => ({
        type: 'hold',
        key: APP.key,
        upstreams: [nodes[0]!.port, nodes[1]!.port],
        gatewayUrl: gateway!.url,
        roomId: hot,
        count: Math.min(per, RECONNECT_SOCKETS - i * per),
        reconnectJitterMs: sync ? 0 : 1_000,
        jitterReconnectsMs: sync ? 0 : 3_000,
        maxBackfill: RECONNECT_MAX_BACKFILL,
        keep: RECONNECT_KEEP,
      }),
      'held',
    );
    const heldOk = heldReports.reduce((a, r) => a + r.ok, 0);
    await sleep(3_000);
    const base = (await topology.messaging.jsm.streams.info(chatStream)).state.last_seq + 1;
    await askAll({ type: 'arm', base, size: RECONNECT_RATE * 300 + 10_000 }, 'armed');
    await sleep(3_000);
    const h0 = await historyCounters();
    const killedAt = Date.now();
    await askAll({ type: 'killed', at: killedAt }, 'noted');
    process.kill(nodes[0]!.pid, 'SIGKILL');
    let peak = 0;
    let last = procSample(gateway!.service.child.pid!);
    // Over the storm (kill → every feed live): the surviving node's and the load clients' CPU.
    const storm0 = { node: procSample(nodes[1]!.pid), clients: feedCpu(), at: performance.now() };
    let storm = { nodeCpuPct: Number.NaN, clientsCpuPct: Number.NaN };
    let status: StatusReport[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await sleep(500);
      const now = procSample(gateway!.service.child.pid!);
      peak = Math.max(peak, procDelta(last, now).cpuPct);
      last = now;
      status = await askAll<StatusReport>({ type: 'status' }, 'status');
      if (process.env['BENCH_RT_DEBUG']) log(`  ${Date.now() - killedAt} ms: ${JSON.stringify(status.map((s) => ({ live: s.live, states: s.states, changes: s.changes })))}`);
      const seconds = (performance.now() - storm0.at) / 1000;
      storm = { nodeCpuPct: procDelta(storm0.node, procSample(nodes[1]!.pid)).cpuPct, clientsCpuPct: (100 * (feedCpu() - storm0.clients)) / seconds };
      if (status.reduce((a, s) => a + s.live, 0) >= heldOk) break;
    }
    // A few more seconds of chat after everyone is back, then the check by sequence.
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      const now = procSample(gateway!.service.child.pid!);
      peak = Math.max(peak, procDelta(last, now).cpuPct);
      last = now;
    }
    const { seqs, failed } = await live.stop();
    // Every message published has been fanned out (the gateway's consumer has nothing pending or unacked,
    // and it acks after handing events to Soketi), then 2 s for Soketi's writes and the clients' reads:
    // the check counts no message still in flight as lost.
    const fanout = topology.topology.consumers.chatToGateway;
    for (let i = 0; i < 120; i++) {
      const info = await topology.messaging.jsm.consumers.info(chatStream, fanout);
      if (info.num_pending === 0 && info.num_ack_pending === 0) break;
      await sleep(500);
    }
    const truth = seqs.filter((q) => q >= base);
    // Then until every feed shows the last message published: a load client on a saturated machine reads its
    // socket seconds behind, and what it has not read yet is late, not lost. Past 60 s, what is missing counts.
    const settled = await askAll<SettleReport>({ type: 'settle', last: truth.reduce((a, q) => Math.max(a, q), 0), timeoutMs: SETTLE_MS }, 'settled');
    status = await askAll<StatusReport>({ type: 'status' }, 'status');
    const h1 = await historyCounters();
    const verified = await askAll<VerifyReport>({ type: 'verify', truth }, 'verified');
    const liveAfter = status.flatMap((s) => s.liveAfterMs).sort((a, b) => a - b);
    const subscribedAfter = status.flatMap((s) => s.subscribedAfterMs).sort((a, b) => a - b);
    const qs = (p: number) => subscribedAfter[Math.min(subscribedAfter.length - 1, Math.max(0, Math.ceil(p * subscribedAfter.length) - 1))] ?? Number.NaN;
    const liveCount = liveAfter.length;
    const q = (p: number) => (liveCount ? liveAfter[Math.min(liveCount - 1, Math.ceil(p * liveCount) - 1)]! : Number.NaN);
    const lost = verified.reduce((a, v) => a + v.lost, 0);
    const feedsWithLoss = verified.reduce((a, v) => a + v.feedsWithLoss, 0);
    const doubled = verified.reduce((a, v) => a + v.doubled, 0);
    const gaps = verified.reduce((a, v) => a + v.gaps, 0);
    const keepDropped = verified.reduce((a, v) => a + v.keepDropped, 0);
    const gapsSinceArm = verified.reduce((a, v) => a + v.gapsSinceArm, 0);
    const skipped = verified.reduce((a, v) => a + v.skipped, 0);
    const emptyGaps = verified.reduce((a, v) => a + v.emptyGaps, 0);
    const errors = status.reduce((a, s) => a + s.errors, 0);
    const lastError = status.find((s) => s.lastError)?.lastError;
    const requests = h1.read + h1.shared - h0.read - h0.shared;
    const label = sync ? 'synchronized (backfill jitter 0, no reconnect jitter)' : 'page default (reconnect 0-3 s, backfill 0-1 s)';
    log(
      `  ${label.padEnd(54)}${fmt(heldOk).padStart(7)}${fmt(q(0.5)).padStart(20)}${fmt(q(0.99)).padStart(8)}${fmt(liveCount === heldOk ? liveAfter.at(-1)! : Number.NaN).padStart(8)}` +
        `${fmt(lost).padStart(7)}${fmt(doubled).padStart(9)}${`${fmt(gaps)} (${fmt(skipped)})`.padStart(21)}${fmt(requests / heldOk, 2).padStart(20)}${`${fmt(peak)} %`.padStart(21)}${fmt(errors + failed).padStart(8)}`,
    );
    if (liveCount < heldOk) log(`  (${fmt(heldOk - liveCount)} feeds not live again within 60 s)`);
    if (lastError) log(`  (history request failures, retried by the feeds; the last: ${lastError})`);
    if (lost) log(`  (${fmt(lost)} messages missing outside any recorded gap, over ${fmt(feedsWithLoss)} feeds)`);
    const belowKeep = verified.reduce((a, v) => a + v.belowKeep, 0);
    if (belowKeep) log(`  (${fmt(belowKeep)} messages never shown and older than all a feed holds at the check: below its keep window of ${fmt(RECONNECT_KEEP)}, fetched by scrolling back; not counted as lost)`);
    if (keepDropped) log(`  (${fmt(keepDropped)} messages brought by a backfill and dropped at once by the feeds' keep window of ${fmt(RECONNECT_KEEP)}: older than all they held; not counted as lost)`);
    if (lost && process.env['BENCH_RT_DEBUG']) for (const e of verified.flatMap((v) => v.examples).slice(0, 3)) log(`  lost: ${JSON.stringify(e, null, 1)}`);
    log(`  ${''.padEnd(36)}resubscribed after the kill: p50 ${fmt(qs(0.5))} / p99 ${fmt(qs(0.99))} / all ${fmt(subscribedAfter.at(-1) ?? Number.NaN)} ms; over the storm: surviving node ${fmt(storm.nodeCpuPct)} % CPU, load clients ${fmt(storm.clientsCpuPct)} % (of one core)`);
    const beyondBound = verified.reduce((a, v) => a + v.beyondBound, 0);
    const beyondBy = verified.reduce((a, v) => a + v.beyondBy, 0);
    const largestHole = Math.max(0, ...verified.map((v) => v.largestHole));
    log(`  ${''.padEnd(36)}gaps recorded: ${fmt(gaps - gapsSinceArm)} while the feeds opened (before the check), ${fmt(gapsSinceArm)} in the storm; ${fmt(emptyGaps)} over messages all shown`);
    log(`  ${''.padEnd(36)}reconnects that missed more than maxBackfill: ${fmt(beyondBound)} (by ${fmt(beyondBy)} messages in all; largest hole ${fmt(largestHole)} messages)`);
    if (process.env['BENCH_RT_DEBUG']) for (const e of verified.flatMap((v) => v.gapExamples).slice(0, 6)) log(`  gap: ${JSON.stringify(e, null, 1)}`);
    const unsettled = settled.reduce((a, r) => a + r.unsettled, 0);
    log(`  ${''.padEnd(36)}before the check: ${fmt(settled.reduce((a, r) => a + r.settled, 0))} feeds showed the last message published within ${fmt(Math.max(0, ...settled.map((r) => r.waitedMs)))} ms of its fan-out${unsettled ? `, ${fmt(unsettled)} had not after ${fmt(SETTLE_MS / 1000)} s (${JSON.stringify(Object.assign({}, ...settled.map((r) => r.unsettledStates)))}; behind by ${settled.flatMap((r) => r.unsettledBehind).slice(0, 6).join(', ')} sequences)` : ''}`);
    const sentEvents = [...h1.events].map(([k, v]) => [k, v - (h0.events.get(k) ?? 0)] as const);
    const eventsTotal = sentEvents.reduce((a, [, v]) => a + v, 0);
    log(`  ${''.padEnd(36)}gateway over the storm: ${fmt(h1.windows - h0.windows)} windows, ${fmt(eventsTotal)} chat events (${sentEvents.filter(([, v]) => v > 0).map(([k, v]) => `${k === 'named/yes' ? 'prev, whole' : k === 'named/no' ? 'prev, not whole' : 'no prev'} ${fmt(v)}`).join('; ')})`);
    log(`  ${''.padEnd(36)}check window: ${fmt(truth.length)} messages from the kill − 3 s to the end; history reads ${[...h1.sources].map(([k, v]) => `${k} ${fmt(v - (h0.sources.get(k) ?? 0))}`).join(', ')}; ${fmt(h1.shared - h0.shared)} shared`);
    summary.push(
      `R ${mode}: ${fmt(liveCount)}/${fmt(heldOk)} feeds live again, all within ${fmt(liveCount === heldOk ? liveAfter.at(-1)! : Number.NaN)} ms (p50 ${fmt(q(0.5))}, p99 ${fmt(q(0.99))}); lost ${fmt(lost)}, doubled ${fmt(doubled)}, gaps ${fmt(gaps)} (${fmt(skipped)} messages skipped by design); ` +
        `${fmt(requests / heldOk, 2)} history requests/reconnect; gateway CPU peak ${fmt(peak)} %`,
    );
    await stopFeedWorkers();
    await Promise.all(nodes.map((n) => n.stop()));
  }
  log('');
}
if (pgConnected) await pgAdmin.end();
await soketiNats?.stop();

log('summary');
for (const line of summary) log(`  ${line}`);
await gateway?.service.kill('SIGTERM');
await ingest.kill('SIGTERM');
agent.destroy();
await topology.cleanup();
await testDb.drop();
process.exit(0);
