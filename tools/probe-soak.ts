/**
 * `npx tsx tools/probe-soak.ts [minutes=10]` — the probe scheduler's "done when", in real time: two
 * `probe-scheduler` processes (`node --import tsx apps/probe-scheduler/src/main.ts`, own PORT and
 * REPLICA_ID) share a throwaway Postgres database, NATS namespace and ClickHouse database, and probe a
 * local Kick-speaking server with 200 channels (180 live, 20 offline) for `minutes` real minutes. Then it
 * stops them (SIGTERM) and checks, over the run's full minutes (the first and last partial ones left out):
 *   - Postgres `probes`: every live channel has exactly one row, live, for every minute;
 *   - ClickHouse `probes FINAL`: the same, and the same rows as Postgres;
 *   - the NATS probes stream holds as many messages as Postgres has rows;
 *   - both replicas wrote probes, both exited 0 on SIGTERM, neither logged an error, Kick saw no error;
 *   - the two share the work: in every minute of the run (probes_written_total scraped from each once a
 *     minute), each wrote within ±25 % of half the minute's probes. Both start at once, as a Deployment's
 *     replicas do; a replica listens to the others' heartbeats for one tick before its first claim.
 * Prints every figure and exits 1 when a check fails (keeping the databases and logs to look at), 0 otherwise.
 * Needs Postgres, NATS and ClickHouse as `npm run stack -- up` provides them; traffic is loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { pino } from 'pino';
import { connectAnalytics, dropAnalyticsDatabase, type Analytics } from '@onair/analytics';
import { createTopology, probesToClickHouseConsumer } from '@onair/contracts';
import { createDb, migrateToLatest } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { connectMessaging } from '@onair/messaging';
import { freePortForTests } from '@onair/service-kit/testing';
import { fakeChannel, startSeededFakeKick } from './fake-kick-server';

const MINUTES = Number(process.argv[2] ?? 10);
if (!Number.isFinite(MINUTES) || MINUTES < 2) {
  process.stderr.write('usage: npx tsx tools/probe-soak.ts [minutes ≥ 2, default 10]\n');
  process.exit(2);
}
const CHANNELS = 200;
/** Every 10th channel is offline: 180 live, 20 offline. */
const OFFLINE_EVERY = 10;
const FIRST_ID = 700_000;
const MINUTE = 60_000;
/**
 * A minute counts as full when the run went on this long past its end: a probe due at :59 runs at the
 * next tick (PROBE_TICK_MS 5 s + up to 1 s jitter) and is written for the minute it was due.
 */
const SETTLE_MS = 15_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NATS_URL = process.env['NATS_URL'] || 'nats://127.0.0.1:4222';
const CLICKHOUSE_URL = 'http://127.0.0.1:8123';

const log = (line: string) => process.stdout.write(`${line}\n`);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const floorMinute = (ms: number) => ms - (ms % MINUTE);

const tag = randomBytes(3).toString('hex');
const namespace = `soak_${tag}`;
const clickhouseDatabase = `onair_soak_${tag}`;
const logDir = join(tmpdir(), `onair-probe-soak-${tag}`);
mkdirSync(logDir, { recursive: true });

log(`probe-scheduler soak — ${new Date().toISOString()}, ${MINUTES} minutes, 2 replicas, ${CHANNELS} kick channels`);

// --- throwaway stores, seeded before the services start -------------------------------------------------
const testDb = await createTestDatabase(`probe_soak_${tag}`);
const admin = createDb({ url: testDb.url, poolMax: 2, applicationName: 'probe-soak' });
await migrateToLatest(admin.db, new Date());
const channelOf = new Map<number, { index: number; live: boolean }>();
for (let i = 1; i <= CHANNELS; i++) {
  const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES (${`soak ${i}`}) RETURNING id`.execute(admin.db);
  const { rows: channel } = await sql<{ id: number }>`
    INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
    VALUES (${rows[0]!.id}, 'kick', ${String(FIRST_ID + i)}, ${`slug${i}`}) RETURNING id`.execute(admin.db);
  channelOf.set(Number(channel[0]!.id), { index: i, live: i % OFFLINE_EVERY !== 0 });
}
const liveIds = [...channelOf].filter(([, c]) => c.live).map(([id]) => id);
const fakeOptions = { channels: CHANNELS, firstId: FIRST_ID, offlineEvery: OFFLINE_EVERY, startedAt: new Date(Date.now() - 3_600_000).toISOString() };
const fake = await startSeededFakeKick(fakeOptions);
for (let i = 1; i <= CHANNELS; i++) if (fakeChannel(i, fakeOptions).isLive !== (i % OFFLINE_EVERY !== 0)) throw new Error('fake and seed disagree');

const topology = createTopology(namespace);
const messaging = await connectMessaging({ url: NATS_URL, name: 'probe-soak', logger: pino({ level: 'silent' }) });
let analytics: Analytics | undefined;

log(`postgres ${new URL(testDb.url).pathname.slice(1)}, NATS namespace ${namespace}, ClickHouse database ${clickhouseDatabase}, Kick ${fake.apiBase}`);
log(`logs in ${logDir}`);

// --- two probe-scheduler processes ---------------------------------------------------------------------
interface Service {
  replica: string;
  port: number;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

async function startService(replica: string): Promise<Service> {
  const port = await freePortForTests();
  const logFile = join(logDir, `${replica}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/probe-scheduler/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REPLICA_ID: replica,
      LOG_LEVEL: 'info',
      DATABASE_URL: testDb.url,
      NATS_URL,
      NATS_NAMESPACE: namespace,
      // JetStream reserves a stream's max_bytes up front; the soak publishes no chat, so no 8 GiB chat stream.
      CHAT_MAX_BYTES: String(64 * 1024 ** 2),
      CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: clickhouseDatabase,
      KICK_API_BASE: fake.apiBase,
      KICK_OAUTH_BASE: fake.oauthBase,
      KICK_CLIENT_ID: fake.clientId,
      KICK_CLIENT_SECRET: fake.clientSecret,
      ADMIN_TOKEN: `probe-soak-admin-${randomBytes(12).toString('hex')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${replica} exited with ${child.exitCode} during start; see ${logFile}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`${replica} did not answer /healthz within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`started ${replica}: pid ${child.pid}, port ${port}`);
  return { replica, port, child, logFile, exited };
}

const services: Service[] = [];
const stopServices = async () => {
  const codes: Record<string, number | null> = {};
  for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  for (const s of services) {
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 40_000);
    codes[s.replica] = await s.exited;
    clearTimeout(timer);
  }
  return codes;
};
process.once('SIGINT', () => {
  log('interrupted: stopping the services');
  void stopServices().then(() => fake.close()).then(() => process.exit(130));
});

services.push(...(await Promise.all([startService('soak-a'), startService('soak-b')])));
const startedAt = Date.now();
const endAt = startedAt + MINUTES * MINUTE;

// --- run, with a line of progress per minute ----------------------------------------------------------
async function scrape(s: Service): Promise<string> {
  return (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
}
const written = (text: string) => Number(/^probes_written_total\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? 'NaN');
/** probes_written_total of each replica at each minute mark (index 0: at start). */
const writtenAt: number[][] = [await Promise.all(services.map(async (s) => written(await scrape(s))))];
const pgCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM probes`.execute(admin.db)).rows[0]!.n;
const streamCount = async () => (await messaging.jsm.streams.info(topology.probes.stream)).state.messages;
const chQuery = async <T>(query: string): Promise<T[]> => {
  analytics ??= await connectAnalytics({ url: CLICKHOUSE_URL, database: clickhouseDatabase });
  return (await analytics.client.query({ query, format: 'JSONEachRow' })).json<T>();
};
const chCount = async () => Number((await chQuery<{ n: string }>('SELECT count() AS n FROM probes FINAL').catch(() => [{ n: 'NaN' }]))[0]!.n);

for (let m = 1; Date.now() < endAt; m++) {
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(startedAt + m * MINUTE, endAt) - Date.now())));
  const now = await Promise.all(services.map(async (s) => written(await scrape(s))));
  const minute = now.map((n, i) => n - writtenAt.at(-1)![i]!);
  writtenAt.push(now);
  log(
    `  +${String(m).padStart(2)} min  postgres ${await pgCount()} rows, stream ${await streamCount()} messages, clickhouse ${await chCount()} rows (FINAL); ` +
      `written this minute ${services.map((s, i) => `${s.replica} ${minute[i]}`).join(', ')}`,
  );
}

// --- stop: metrics first, then SIGTERM -----------------------------------------------------------------
const metrics: Record<string, { written: number; failed: number; kickCalls: string }> = {};
for (const s of services) {
  const text = await scrape(s);
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  const calls = [...text.matchAll(/^kick_api_requests_total\{([^}]*)\} (\S+)$/gm)].map((x) => {
    const labels = Object.fromEntries([...x[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    return `${labels['endpoint']}/${labels['status']}×${x[2]}`;
  });
  metrics[s.replica] = { written: value('probes_written_total'), failed: value('probes_failed_total'), kickCalls: calls.join(' ') || '(no kick_api_requests_total)' };
}
const stopAt = Date.now();
const exitCodes = await stopServices();

// --- checks -------------------------------------------------------------------------------------------
const firstMinute = floorMinute(startedAt) + MINUTE;
const lastMinute = floorMinute(stopAt - MINUTE - SETTLE_MS);
const minutes: number[] = [];
for (let t = firstMinute; t <= lastMinute; t += MINUTE) minutes.push(t);
const from = new Date(firstMinute);
const to = new Date(lastMinute + MINUTE);
log('');
log(`ran ${iso(startedAt)} → ${iso(stopAt)}; full minutes checked: ${iso(firstMinute)} … ${iso(lastMinute)} (${minutes.length})`);

const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  log(`  ${ok ? 'ok  ' : 'FAIL'}  ${what}`);
  if (!ok) failures.push(what);
};

/** Per live channel and minute: how many rows, and whether all said live. Returns the faults found. */
function perMinuteFaults(rows: Array<{ channelId: number; ts: number; n: number; live: boolean }>): { missing: string[]; extra: string[]; notLive: string[] } {
  const seen = new Map(rows.map((r) => [`${r.channelId}@${r.ts}`, r]));
  const missing: string[] = [];
  const extra: string[] = [];
  const notLive: string[] = [];
  for (const id of liveIds) {
    for (const t of minutes) {
      const row = seen.get(`${id}@${t}`);
      if (!row) missing.push(`channel ${id} @ ${iso(t)}`);
      else {
        if (row.n !== 1) extra.push(`channel ${id} @ ${iso(t)} × ${row.n}`);
        if (!row.live) notLive.push(`channel ${id} @ ${iso(t)}`);
      }
    }
  }
  return { missing, extra, notLive };
}
const describe = (f: ReturnType<typeof perMinuteFaults>) =>
  `missing ${f.missing.length}, more than one ${f.extra.length}, not live ${f.notLive.length}` +
  [...f.missing.slice(0, 5), ...f.extra.slice(0, 5), ...f.notLive.slice(0, 5)].map((x) => `\n          ${x}`).join('');

log('');
log('Postgres probes:');
const pgRows = (
  await sql<{ channel_id: number; ts: Date; n: number; live: boolean }>`
    SELECT channel_id, ts, count(*)::int AS n, bool_and(is_live) AS live FROM probes
    WHERE ts >= ${from} AND ts < ${to} GROUP BY channel_id, ts`.execute(admin.db)
).rows.map((r) => ({ channelId: Number(r.channel_id), ts: r.ts.getTime(), n: r.n, live: r.live }));
const pgFaults = perMinuteFaults(pgRows);
const pgTotal = await pgCount();
const pgWindow = pgRows.reduce((a, r) => a + r.n, 0);
const offlineRows = pgRows.filter((r) => !channelOf.get(r.channelId)?.live);
log(`  ${pgTotal} rows in all, ${pgWindow} in the checked minutes (${liveIds.length} live channels × ${minutes.length} minutes = ${liveIds.length * minutes.length} live, + ${offlineRows.length} of ${CHANNELS - liveIds.length} offline channels)`);
check(pgFaults.missing.length + pgFaults.extra.length + pgFaults.notLive.length === 0, `every live channel exactly one live row per minute — ${describe(pgFaults)}`);
const offlinePerChannel = new Map<number, number>();
for (const r of offlineRows) offlinePerChannel.set(r.channelId, (offlinePerChannel.get(r.channelId) ?? 0) + 1);
const offlineMax = Math.max(0, ...offlinePerChannel.values());
const offlineMin = Math.min(...[...channelOf].filter(([, c]) => !c.live).map(([id]) => offlinePerChannel.get(id) ?? 0));
check(
  offlineMax <= Math.ceil(minutes.length / 5) && offlineMin >= Math.floor(minutes.length / 5),
  `offline channels probed every 5 minutes (${offlineMin}–${offlineMax} rows each in ${minutes.length} minutes)`,
);

log('');
log(`ClickHouse ${clickhouseDatabase}.probes FINAL:`);
const chRows = (
  await chQuery<{ channel_id: string; t: string; n: string; live: number | boolean }>(
    `SELECT channel_id, toUnixTimestamp(ts) AS t, count() AS n, min(is_live) AS live FROM probes FINAL
     WHERE ts >= toDateTime(${firstMinute / 1000}, 'UTC') AND ts < toDateTime(${(lastMinute + MINUTE) / 1000}, 'UTC')
     GROUP BY channel_id, ts`,
  )
).map((r) => ({ channelId: Number(r.channel_id), ts: Number(r.t) * 1000, n: Number(r.n), live: Boolean(Number(r.live)) }));
const chFaults = perMinuteFaults(chRows);
const chTotal = await chCount();
const chRaw = Number((await chQuery<{ n: string }>('SELECT count() AS n FROM probes'))[0]!.n);
const consumer = await messaging.jsm.consumers.info(topology.probes.stream, probesToClickHouseConsumer(topology).durable).catch(() => undefined);
log(
  `  ${chTotal} rows in all (${chRaw} before FINAL), ${chRows.reduce((a, r) => a + r.n, 0)} in the checked minutes; ` +
    `consumer ${probesToClickHouseConsumer(topology).durable}: ${consumer?.num_pending ?? '?'} pending, ${consumer?.num_ack_pending ?? '?'} unacked at stop`,
);
check(chFaults.missing.length + chFaults.extra.length + chFaults.notLive.length === 0, `every live channel exactly one live row per minute — ${describe(chFaults)}`);
const pgKeys = new Set(pgRows.map((r) => `${r.channelId}@${r.ts}`));
const chKeys = new Set(chRows.map((r) => `${r.channelId}@${r.ts}`));
const onlyPg = [...pgKeys].filter((k) => !chKeys.has(k));
const onlyCh = [...chKeys].filter((k) => !pgKeys.has(k));
check(onlyPg.length === 0 && onlyCh.length === 0, `the same channel-minutes as Postgres in the checked minutes (only in Postgres ${onlyPg.length}, only in ClickHouse ${onlyCh.length})`);

log('');
log(`NATS ${topology.probes.stream}:`);
const messages = await streamCount();
check(messages === pgTotal, `stream holds as many messages as Postgres has rows (${messages} messages, ${pgTotal} rows)`);

log('');
log('replicas:');
for (const s of services) {
  const m = metrics[s.replica]!;
  const lines = readFileSync(s.logFile, 'utf8').split('\n').filter(Boolean);
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as { level: number; msg: string };
    } catch {
      return { level: 50, msg: `(not JSON) ${l.slice(0, 200)}` };
    }
  });
  const warns = parsed.filter((p) => p.level === 40);
  const errors = parsed.filter((p) => p.level >= 50);
  log(`  ${s.replica}: probes_written_total ${m.written}, probes_failed_total ${m.failed}, exit code ${exitCodes[s.replica]}, ${warns.length} warn and ${errors.length} error log lines`);
  log(`      kick_api_requests_total ${m.kickCalls}`);
  for (const msg of new Set([...warns, ...errors].map((p) => p.msg))) log(`      logged: ${msg}`);
  check(m.written > 0, `${s.replica} wrote probes`);
  check(exitCodes[s.replica] === 0, `${s.replica} exited 0 on SIGTERM`);
  check(errors.length === 0, `${s.replica} logged no error`);
}
const writtenByBoth = Object.values(metrics).reduce((a, m) => a + m.written, 0);
log(`  written by both (scraped just before SIGTERM): ${writtenByBoth}; Postgres rows after stop: ${pgTotal}`);
// Each minute of the run (from the scrapes a minute apart): each replica within ±25 % of half of it.
const splits = writtenAt.slice(1).map((row, m) => row.map((n, i) => n - writtenAt[m]![i]!));
const skews = splits.map((row) => {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  return mean === 0 ? Number.POSITIVE_INFINITY : Math.max(...row.map((n) => Math.abs(n - mean) / mean));
});
log(`  written per minute (${services.map((s) => s.replica).join(' / ')}): ${splits.map((row) => row.join('/')).join(', ')}`);
check(
  skews.every((x) => x <= 0.25),
  `the replicas split every minute within ±25 % of an even share (worst ${Math.round(100 * Math.max(...skews))} % off)`,
);
const kickStatuses = new Map<string, number>();
for (const r of fake.requests) kickStatuses.set(`${r.endpoint} ${r.status}`, (kickStatuses.get(`${r.endpoint} ${r.status}`) ?? 0) + 1);
log(`  Kick saw: ${[...kickStatuses].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
check([...kickStatuses.keys()].every((k) => k.endsWith(' 200')), 'every Kick call answered 200');

// --- cleanup (kept when a check failed, to look at) -----------------------------------------------------
log('');
await fake.close();
await admin.close();
await analytics?.close();
// The streams go either way: their figures are printed above, and JetStream reserves their max_bytes.
for (const name of [topology.chat.stream, topology.events.stream, topology.probes.stream, topology.deadLetter.stream]) {
  await messaging.jsm.streams.delete(name).catch(() => undefined);
}
await messaging.drain();
if (failures.length === 0) {
  await dropAnalyticsDatabase(CLICKHOUSE_URL, clickhouseDatabase);
  await testDb.drop();
  log(`PASS — ${minutes.length} full minutes, ${liveIds.length} live channels, one probe each per minute in Postgres, ClickHouse and NATS`);
  process.exit(0);
}
log(`FAIL — ${failures.length} check(s) failed; kept Postgres ${new URL(testDb.url).pathname.slice(1)}, ClickHouse ${clickhouseDatabase} and ${logDir}`);
process.exit(1);
