/**
 * `npm run bench:probes` — one run, figures side by side (the machines are noisy; compare ratios):
 *   1. the claim: `claimChannels` with limit 1000 while two replicas claim at once, over one simulated
 *      minute of steady state and on a backlog where every channel is due at once;
 *   2. the baseline: the claim a leader-based cron makes — SELECT the due rows, then UPDATE them one by
 *      one (autocommit, no SKIP LOCKED) — on the same 1000 rows, next to ours by one claimer;
 *   3. the full tick of two `buildApp` replicas (claim → Kick → record → publish to a throwaway NATS
 *      namespace) over simulated minutes, ticking every 5 s of simulated time as fast as they can:
 *      p50/p99 per tick, wall-clock time per simulated minute and probes written per simulated minute.
 * The clock is injected (as in replicas.spec.ts), so a simulated minute takes only the time its work
 * takes. The local Kick-speaking server runs in a process of its own (tools/fake-kick-server.ts), as
 * the real Kick is another machine. Not a test: it asserts nothing and is never run by `npm test`.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type pg from 'pg';
import { pino } from 'pino';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createKickClient } from '@onair/kick-api';
import { connectMessaging } from '@onair/messaging';
import { createTestTopology, TEST_NATS_URL } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { buildApp, type ProbeScheduler } from '../../apps/probe-scheduler/src/app';
import { nextProbeAt, probeMinute } from '../../apps/probe-scheduler/src/schedule-policy';
import { claimChannels } from '../../apps/probe-scheduler/src/sql/claim-channels';
import { recordProbes } from '../../apps/probe-scheduler/src/sql/record-probes';

const CHANNELS = Number(process.env['BENCH_PROBE_CHANNELS'] ?? 10_000);
/** Every n-th channel is offline (probed every 5 minutes); the others are live (every minute). */
const OFFLINE_EVERY = Number(process.env['BENCH_PROBE_OFFLINE_EVERY'] ?? 20);
const MINUTES = Number(process.env['BENCH_PROBE_MINUTES'] ?? 3);
const REPEATS = Number(process.env['BENCH_PROBE_REPEATS'] ?? 10);
/**
 * `minute` (default): VACUUM ANALYZE probe_schedule between simulated minutes, untimed. In real time
 * autovacuum does this about once a minute (every claim and every record rewrites each due row, 20k row
 * versions a minute at 10k channels, far over its threshold); a simulated minute lasts a few seconds, so
 * without it the benchmark would measure a table bloating many times faster than the service's. `off`: never.
 */
const VACUUM = process.env['BENCH_PROBE_VACUUM'] ?? 'minute';
const CLAIM_LIMIT = 1_000;
/** PROBE_HOLD_MS's default. */
const HOLD_MS = 30_000;
const FIRST_ID = 100_000;
const MINUTE = 60_000;
const STEP_MS = 5_000;
const T0 = Date.parse('2026-11-23T12:00:00Z');
const LIVE = CHANNELS - Math.floor(CHANNELS / OFFLINE_EVERY);

const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(2);
const silent = pino({ level: 'silent' });

let clock = T0;

// --- setup: a throwaway database with CHANNELS active kick channels, Kick in its own process, NATS ----
const testDb = await createTestDatabase('bench_probes');
const admin = createDb({ url: testDb.url, poolMax: 2, applicationName: 'bench-admin' });
await migrateToLatest(admin.db, new Date(T0));
await sql`INSERT INTO streamers (display_name) SELECT 's' || g FROM generate_series(1, ${CHANNELS}::int) g`.execute(admin.db);
// Streamer ids are 1..CHANNELS in a fresh database; channel i is broadcaster FIRST_ID + i, as the fake serves.
await sql`
  INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
  SELECT id, 'kick', (${FIRST_ID}::bigint + id)::text, 'slug' || id FROM streamers ORDER BY id`.execute(admin.db);
// Autovacuum analyzes a freshly filled table within a minute; do it now so the first claims are planned as later ones.
await sql`ANALYZE`.execute(admin.db);
const pgVersion = (await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(admin.db)).rows[0]!.v;

const fake = await spawnFakeKick();
const env = await createTestTopology('bench-probes');

interface Replica {
  name: string;
  db: Db;
  app: ProbeScheduler;
  close(): Promise<void>;
}

/** One replica as main.ts builds it: its own pool (DB_POOL_MAX 4), NATS connection and Kick client. */
async function startReplica(name: string): Promise<Replica> {
  const db = createDb({ url: testDb.url, poolMax: 4, applicationName: `bench-${name}` });
  const messaging = await connectMessaging({ url: TEST_NATS_URL, name: `bench-${name}`, logger: silent });
  const registry = createMetricsRegistry('probe-scheduler');
  const kick = createKickClient({
    apiBase: fake.apiBase,
    oauthBase: fake.oauthBase,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    registry,
    now: () => clock,
  });
  const app = buildApp({
    logger: silent,
    registry,
    messaging,
    topology: env.topology,
    db,
    kick,
    replica: name,
    claimLimit: CLAIM_LIMIT,
    holdMs: HOLD_MS,
    adminToken: 'bench-admin-token-not-served-0123456789',
    now: () => new Date(clock),
  });
  return {
    name,
    db,
    app,
    async close() {
      await app.stop();
      await messaging.drain();
      await db.close();
    },
  };
}

const replicas = [await startReplica('a'), await startReplica('b')];

log(`onair probe scheduler benchmark — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, PostgreSQL ${pgVersion}, nats-server ${env.messaging.nc.info?.version ?? '?'}`);
log(
  `${fmt(CHANNELS)} active kick channels (${fmt(LIVE)} live, ${fmt(CHANNELS - LIVE)} offline), 2 replicas, claim limit ${CLAIM_LIMIT}, ` +
    `hold ${HOLD_MS / 1000} s, ticks every ${STEP_MS / 1000} s of simulated time, Kick-speaking server in its own process`,
);
log(`load average at start (1 min, other work on the machine): ${loadavg()[0]!.toFixed(2)}`);
log(`probe_schedule vacuumed between simulated minutes (as autovacuum does each real minute): ${VACUUM === 'minute' ? 'yes' : 'no'}`);
log('');

// --- 3. full ticks over simulated minutes (first, while the schedule is what the service makes of it) ----
interface Step {
  wallMs: number;
  ticks: Array<{ ms: number; claimed: number; probed: number; failed: number }>;
}

/** Both replicas tick at `at` (in random order, at once) and the step ends when both are done. */
async function tickStep(at: number): Promise<Step> {
  clock = at;
  const t0 = performance.now();
  const ticks = await Promise.all(
    [...replicas]
      .sort(() => Math.random() - 0.5)
      .map(async (r) => {
        const started = performance.now();
        const result = await r.app.tick();
        return { ms: performance.now() - started, ...result };
      }),
  );
  return { wallMs: performance.now() - t0, ticks };
}

/** Stands in for autovacuum's once-a-minute pass over probe_schedule (see VACUUM); not timed. */
async function betweenMinutes(): Promise<void> {
  if (VACUUM === 'minute') await admin.pool.query('VACUUM ANALYZE probe_schedule');
}

const minutes: Array<{ minute: number; wallMs: number; claimed: number; failed: number; tickMs: number[] }> = [];
for (let m = 0; m <= MINUTES; m++) {
  if (m > 0) await betweenMinutes();
  const row = { minute: m, wallMs: 0, claimed: 0, failed: 0, tickMs: [] as number[] };
  for (let s = 0; s < 60_000 / STEP_MS; s++) {
    const step = await tickStep(T0 + m * MINUTE + s * STEP_MS + Math.floor(Math.random() * 1_000));
    row.wallMs += step.wallMs;
    for (const t of step.ticks) {
      row.tickMs.push(t.ms);
      row.claimed += t.claimed;
      row.failed += t.failed;
    }
  }
  minutes.push(row);
}
// One step into the next minute: probes due in the last seconds of the last minute run here (for that minute).
await betweenMinutes();
await tickStep(T0 + (MINUTES + 1) * MINUTE);

const written = (
  await sql<{ ts: Date; live: number; offline: number }>`
    SELECT ts, count(*) FILTER (WHERE is_live)::int AS live, count(*) FILTER (WHERE NOT is_live)::int AS offline
    FROM probes WHERE ts >= ${new Date(T0)} AND ts < ${new Date(T0 + (MINUTES + 1) * MINUTE)} GROUP BY ts ORDER BY ts`.execute(admin.db)
).rows;
const everyMinute = (
  await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT channel_id FROM probes
      WHERE is_live AND ts >= ${new Date(T0 + MINUTE)} AND ts < ${new Date(T0 + (MINUTES + 1) * MINUTE)}
      GROUP BY channel_id HAVING count(*) = ${MINUTES}::int AND count(DISTINCT ts) = ${MINUTES}::int) x`.execute(admin.db)
).rows[0]!.n;
const pgRows = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM probes`.execute(admin.db)).rows[0]!.n;
const streamMessages = (await env.messaging.jsm.streams.info(env.topology.probes.stream)).state.messages;

// --- 1. the claim alone over one simulated minute of steady state, two replicas at once ---------------
interface ClaimSample {
  ms: number;
  rows: number;
}

/** What a tick does with the database, without Kick: claim, move the schedule on, until nothing is due. */
async function claimAndRelease(r: Replica, now: Date, samples: ClaimSample[]): Promise<void> {
  for (;;) {
    const t0 = performance.now();
    const claimed = await claimChannels(r.db.db, { now, replica: r.name, limit: CLAIM_LIMIT, holdMs: HOLD_MS });
    samples.push({ ms: performance.now() - t0, rows: claimed.length });
    if (claimed.length === 0) return;
    await recordProbes(
      r.db.db,
      r.name,
      [],
      claimed.map((c) => ({
        channelId: c.channelId,
        nextProbeAt: nextProbeAt({
          now,
          slot: probeMinute(c.dueAt, now),
          outcome: 'live',
          consecutiveFailures: 0,
          liveMinutes: 1,
          offlineMinutes: 5,
          channelId: c.channelId,
        }),
        probedAt: now,
        consecutiveFailures: 0,
        isLive: true,
      })),
    );
    if (claimed.length < CLAIM_LIMIT) return;
  }
}

const steady: ClaimSample[] = [];
const steadyFrom = T0 + (MINUTES + 1) * MINUTE;
for (let s = 1; s <= 60_000 / STEP_MS; s++) {
  const now = new Date(steadyFrom + s * STEP_MS + Math.floor(Math.random() * 1_000));
  await Promise.all(replicas.map((r) => claimAndRelease(r, now, steady)));
}

// --- the claim on a backlog: every channel due (after an outage, or at the first start) ---------------
/** Makes every channel due, channel 1 first (so "the first 1000 due" are the same rows every time). */
async function makeAllDue(now: number): Promise<void> {
  await sql`
    UPDATE probe_schedule
    SET next_probe_at = ${new Date(now - MINUTE)}::timestamptz + channel_id * interval '1 millisecond', claimed_until = NULL, claimed_by = NULL`.execute(
    admin.db,
  );
  // Each round rewrites every row; vacuum so every round starts from the same table, not a bloating one.
  await admin.pool.query('VACUUM probe_schedule');
}

let roundAt = T0 + 60 * MINUTE;
const backlog: ClaimSample[] = [];
for (let rep = 0; rep < REPEATS; rep++) {
  roundAt += MINUTE;
  await makeAllDue(roundAt);
  const now = new Date(roundAt);
  await Promise.all(
    replicas.map(async (r) => {
      for (;;) {
        const t0 = performance.now();
        const claimed = await claimChannels(r.db.db, { now, replica: r.name, limit: CLAIM_LIMIT, holdMs: HOLD_MS });
        backlog.push({ ms: performance.now() - t0, rows: claimed.length });
        if (claimed.length < CLAIM_LIMIT) return;
      }
    }),
  );
}

// --- 2. the baseline next to ours, one claimer, the same 1000 rows --------------------------------------
/** A leader-based cron's claim: read the due rows, then mark each one on its own (autocommit). */
async function naiveClaim(client: pg.PoolClient, now: Date, replica: string, limit: number): Promise<number[]> {
  const { rows } = await client.query<{ channel_id: number }>(
    `SELECT p.channel_id, c.platform, c.platform_user_id, c.slug, p.consecutive_failures, p.next_probe_at
     FROM probe_schedule p
     JOIN streamer_channels c ON c.id = p.channel_id
     JOIN streamers s ON s.id = c.streamer_id AND s.status = 'active'
     WHERE p.next_probe_at <= $1 AND (p.claimed_until IS NULL OR p.claimed_until <= $1)
     ORDER BY p.next_probe_at
     LIMIT $2`,
    [now, limit],
  );
  const holdUntil = new Date(now.getTime() + HOLD_MS);
  for (const row of rows) {
    await client.query('UPDATE probe_schedule SET claimed_until = $2, claimed_by = $3, updated_at = $4 WHERE channel_id = $1', [
      row.channel_id,
      holdUntil,
      replica,
      now,
    ]);
  }
  return rows.map((r) => Number(r.channel_id));
}

const oursSingle: ClaimSample[] = [];
const baseline: ClaimSample[] = [];
let sameRows = true;
const leader = await admin.pool.connect();
for (let rep = 0; rep < REPEATS; rep++) {
  roundAt += MINUTE;
  await makeAllDue(roundAt);
  let t0 = performance.now();
  const ours = await claimChannels(replicas[0]!.db.db, { now: new Date(roundAt), replica: 'a', limit: CLAIM_LIMIT, holdMs: HOLD_MS });
  oursSingle.push({ ms: performance.now() - t0, rows: ours.length });

  roundAt += MINUTE;
  await makeAllDue(roundAt);
  t0 = performance.now();
  const theirs = await naiveClaim(leader, new Date(roundAt), 'leader', CLAIM_LIMIT);
  baseline.push({ ms: performance.now() - t0, rows: theirs.length });
  const oursIds = new Set(ours.map((c) => c.channelId));
  if (theirs.length !== oursIds.size || theirs.some((id) => !oursIds.has(id))) sameRows = false;
}
leader.release();

// --- report ------------------------------------------------------------------------------------------
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
};
const stats = (samples: ClaimSample[]) => {
  const times = samples.map((s) => s.ms);
  return { n: samples.length, rows: samples.reduce((a, s) => a + s.rows, 0) / Math.max(1, samples.length), p50: pct(times, 0.5), p99: pct(times, 0.99), max: Math.max(...times) };
};
const claimLine = (label: string, samples: ClaimSample[]) => {
  const s = stats(samples);
  log(`  ${label.padEnd(44)} ${String(s.n).padStart(6)}  ${s.rows.toFixed(0).padStart(10)}  ${ms(s.p50).padStart(7)}  ${ms(s.p99).padStart(7)}  ${ms(s.max).padStart(7)}`);
  return s;
};

log('claim latency — claimChannels, limit 1000, two replicas claiming at once:');
log(`  ${''.padEnd(44)} claims  rows/claim    p50 ms   p99 ms   max ms`);
const steadyStats = claimLine('steady state, one simulated minute', steady);
const steadyEmpty = steady.filter((s) => s.rows === 0).length;
if (steadyEmpty > 0) claimLine('  of which claims that got rows', steady.filter((s) => s.rows > 0));
claimLine(`backlog, all ${fmt(CHANNELS)} due, drained ×${REPEATS}`, backlog);
const fullStats = claimLine('  of which full claims (1000 rows)', backlog.filter((s) => s.rows === CLAIM_LIMIT));
log('');
log('baseline — leader cron: SELECT due rows, then UPDATE each (autocommit, no SKIP LOCKED); one claimer, the same 1000 rows:');
log(`  ${''.padEnd(44)} claims  rows/claim    p50 ms   p99 ms   max ms`);
const oursStats = claimLine('ours, one claimer', oursSingle);
const baseStats = claimLine('baseline', baseline);
log(`  same 1000 rows claimed by both: ${sameRows ? 'yes' : 'NO'}`);
log(`  ratio ours ÷ baseline (p50)                       ${(oursStats.p50 / baseStats.p50).toFixed(3)}   (baseline is ${(baseStats.p50 / oursStats.p50).toFixed(0)}× slower)`);
log(`  ratio ours, 2 replicas, full claims ÷ baseline    ${(fullStats.p50 / baseStats.p50).toFixed(3)}`);
log('');

const steadyTicks = minutes.slice(1).flatMap((m) => m.tickMs);
log(`full tick — tick() of two buildApp replicas (claim → Kick → record → publish), ${MINUTES} simulated minutes after a warm-up minute:`);
log('                          ticks   p50 ms   p99 ms   max ms');
log(`  steady minutes        ${String(steadyTicks.length).padStart(6)}  ${ms(pct(steadyTicks, 0.5)).padStart(7)}  ${ms(pct(steadyTicks, 0.99)).padStart(7)}  ${ms(Math.max(...steadyTicks)).padStart(7)}`);
log(`  warm-up minute        ${String(minutes[0]!.tickMs.length).padStart(6)}  ${ms(pct(minutes[0]!.tickMs, 0.5)).padStart(7)}  ${ms(pct(minutes[0]!.tickMs, 0.99)).padStart(7)}  ${ms(Math.max(...minutes[0]!.tickMs)).padStart(7)}   (its first step seeds and probes all ${fmt(CHANNELS)})`);
log('');
log('probes per simulated minute — both replicas ticking every 5 s of simulated time, as fast as they can:');
log('  minute     wall s   wall ÷ 60 s   claimed   probes written (live + offline)   failed');
for (const m of minutes) {
  const w = written.find((r) => r.ts.getTime() === T0 + m.minute * MINUTE);
  const label = m.minute === 0 ? 'warm-up' : String(m.minute);
  log(
    `  ${label.padEnd(8)} ${(m.wallMs / 1000).toFixed(2).padStart(7)}   ${(m.wallMs / 60_000).toFixed(3).padStart(10)}   ${fmt(m.claimed).padStart(7)}   ${fmt((w?.live ?? 0) + (w?.offline ?? 0)).padStart(7)} (${fmt(w?.live ?? 0)} + ${fmt(w?.offline ?? 0)})${' '.repeat(14)}${String(m.failed).padStart(4)}`,
  );
}
const steadyWall = minutes.slice(1).reduce((a, m) => a + m.wallMs, 0) / MINUTES;
const steadyProbes = written.filter((r) => r.ts.getTime() >= T0 + MINUTE).reduce((a, r) => a + r.live + r.offline, 0) / MINUTES;
log(`  mean of minutes 1–${MINUTES}: ${(steadyWall / 1000).toFixed(2)} s wall per simulated minute (÷ 60 s = ${(steadyWall / 60_000).toFixed(3)}), ${fmt(steadyProbes)} probes per minute`);
log(`  capacity at that pace: ${fmt((steadyProbes * 60_000) / steadyWall)} probes per wall-clock minute`);
log(`  live channels probed exactly once in every one of minutes 1–${MINUTES}: ${fmt(everyMinute)} / ${fmt(LIVE)}`);
log(`  NATS probes stream ${fmt(streamMessages)} messages, Postgres probes ${fmt(pgRows)} rows: ${streamMessages === pgRows ? 'equal' : 'DIFFERENT'}`);
log('');
log(`load average at the end: ${loadavg()[0]!.toFixed(2)}`);
log('');
log('targets (issue 4):');
log(`  claim ≤ 50 ms            steady p50 ${ms(steadyStats.p50)} ms, p99 ${ms(steadyStats.p99)} ms; backlog, full 1000-row claims p50 ${ms(fullStats.p50)} ms, p99 ${ms(fullStats.p99)} ms; one claimer p50 ${ms(oursStats.p50)} ms`);
log(`  every channel each minute  ${fmt(steadyProbes)} probes per simulated minute in ${(steadyWall / 1000).toFixed(2)} s of wall time (wall ÷ 60 s = ${(steadyWall / 60_000).toFixed(3)})`);

for (const r of replicas) await r.close();
await env.cleanup();
await fake.stop();
await admin.close();
await testDb.drop();
process.exit(0);

/** Starts tools/fake-kick-server.ts with every channel set and reads where it listens. */
async function spawnFakeKick() {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const main = fileURLToPath(new URL('../fake-kick-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', tsx, main, String(CHANNELS), String(OFFLINE_EVERY), String(FIRST_ID)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end >= 0) resolve(buffer.slice(0, end));
    });
    child.once('exit', (code) => reject(new Error(`fake Kick server exited with ${code} before listening`)));
  });
  const info = JSON.parse(line) as { apiBase: string; oauthBase: string; clientId: string; clientSecret: string };
  return {
    ...info,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
