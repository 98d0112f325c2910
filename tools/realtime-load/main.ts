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
 *
 * Options (env): BENCH_RT_SCENARIOS (default "T,M,A,W,B"), BENCH_RT_STEP_S (10), BENCH_RT_RATE (500),
 * BENCH_RT_B_RATE (200), BENCH_RT_A_STEPS ("1000,2500,5000"), BENCH_RT_A2_SOCKETS (10000),
 * BENCH_RT_B_ROOMS (3900), BENCH_RT_MEASURE_EVERY (20: one socket in N records latencies in the hot room).
 * Not a test: it asserts nothing and is never run by `npm test`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Pusher from 'pusher';
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
import type { WorkerCommand, WorkerReport } from './socket-worker';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const SCENARIOS = env('BENCH_RT_SCENARIOS', 'T,M,A,W,B').toUpperCase().split(',');
const STEP_S = Number(env('BENCH_RT_STEP_S', '10'));
const RATE = Number(env('BENCH_RT_RATE', '500'));
const B_RATE = Number(env('BENCH_RT_B_RATE', '200'));
const A_STEPS = env('BENCH_RT_A_STEPS', '1000,2500,5000').split(',').map(Number);
const SKIP_A1 = process.env['BENCH_RT_SKIP_A1'] === '1';
const A2_SOCKETS = Number(env('BENCH_RT_A2_SOCKETS', '10000'));
const B_ROOMS = Number(env('BENCH_RT_B_ROOMS', '3900'));
const MEASURE_EVERY = Number(env('BENCH_RT_MEASURE_EVERY', '20'));
const WINDOWS = [0, 25, 50, 100, 200];
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
if (!SCENARIOS.some((s) => s === 'M' || s === 'A' || s === 'W' || s === 'B')) process.exit(0);

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
const topology = await createTestTopology('bench-realtime');
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
    LOG_LEVEL: 'warn',
  },
});
children.add(ingest.child);
const tokens = Array.from({ length: 50 }, (_, i) => signSessionToken({ id: `u${i}`, name: `user${i}` }, SESSION, { ttlS: 86_400 }));
const agent = new Agent({ keepAlive: true, maxSockets: 32 });

let gateway: { service: SpawnedService; url: string } | undefined;
async function startGateway(soketi: PrivateSoketi, windowMs: number) {
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
      LOG_LEVEL: 'warn',
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
async function twoNodes() {
  const prefix = `bench_${process.pid}`;
  return [await soketiNode({ app: APP, natsAdapter: { servers: ['127.0.0.1:4222'], prefix, nodes: 2 } }), await soketiNode({ app: APP, natsAdapter: { servers: ['127.0.0.1:4222'], prefix, nodes: 2 } })];
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

log('summary');
for (const line of summary) log(`  ${line}`);
await gateway?.service.kill('SIGTERM');
await ingest.kill('SIGTERM');
agent.destroy();
await topology.cleanup();
await testDb.drop();
process.exit(0);
