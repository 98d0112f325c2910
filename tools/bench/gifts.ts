/**
 * `npm run bench:gifts` — the gifts service as a real process, driven over HTTP (keep-alive) with open-loop
 * load (request i is due at i / rate s; latency is counted from when it was due, so a stall is not hidden):
 *   (a) spread over 5,000 rooms, each gift from one of 20,000 senders to a room picked uniformly: at the plan's
 *       10,000 gifts/minute (167/s), at the hot room's rate (500/s: its comparison) and at the target
 *       BENCH_GIFTS_RATE (1,000/s);
 *   (b) hot room: BENCH_GIFTS_HOT_RATE (500/s) gifts into one room, every one from a different sender;
 * each for BENCH_GIFTS_SECONDS (20) after 2 s of untimed warm-up, then the same two against the naive baseline
 * (`gifts-naive.ts`: one transaction updating the sender's and the owner's balance rows) in the same run.
 * Each case starts once the previous one's credits are folded and its gifts published. Afterwards: gifts
 * stored = 201s answered, the ledger check, every gift published.
 * Not a test: it asserts nothing and is never run by `npm test`.
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createDb, migrateToLatest } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';

const RATE = Number(process.env['BENCH_GIFTS_RATE'] ?? 1_000);
const HOT_RATE = Number(process.env['BENCH_GIFTS_HOT_RATE'] ?? 500);
const SECONDS = Number(process.env['BENCH_GIFTS_SECONDS'] ?? 20);
const WARMUP_S = 2;
/** Postgres connections of each server (the gifts service's DB_POOL_MAX; its default is 8). */
const POOL = process.env['BENCH_GIFTS_POOL'] ?? '8';
const ROOMS = 5_000;
const SENDERS = 20_000;
const HOT_SENDERS = HOT_RATE * (SECONDS + WARMUP_S);
const SESSION_SECRET = 'bench-gifts-session-secret-0123456789abc';
const ADMIN = 'bench-gifts-admin-token-0123456789abcdef';
const CLK_TCK = 100;
const log = (line: string) => process.stdout.write(`${line}\n`);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
};

const env = await createTestTopology('bench-gifts');
const testDb = await createTestDatabase('bench_gifts');
const db = createDb({ url: testDb.url, poolMax: 2 });
await migrateToLatest(db.db, new Date());
const spawned: SpawnedService[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 512 });
try {

  // ---- seed: rooms open to gifts, senders with coins (one balanced grant transaction), the naive tables
  const spreadSenders = Array.from({ length: SENDERS }, (_, i) => `s${i}`);
  const hotSenders = Array.from({ length: HOT_SENDERS }, (_, i) => `h${i}`);
  const everyone = [...spreadSenders, ...hotSenders];
  const rooms = Array.from({ length: ROOMS }, (_, i) => `r${i}`);
  const COINS = 1_000_000;
  await sql`INSERT INTO gift_rooms (room_id, owner_id) SELECT r, 'owner-' || r FROM unnest(${[...rooms, 'hot']}::text[]) AS r`.execute(db.db);
  const seed = (await sql<{ id: string }>`INSERT INTO ledger_txns (kind, scope, idempotency_key, outcome) VALUES ('grant', 'bench', 'seed', '{}') RETURNING id`.execute(db.db)).rows[0]!.id;
  await sql`
    INSERT INTO ledger_entries (txn_id, account, amount, folded)
    SELECT ${seed}::bigint, 'user:' || u, ${COINS}::bigint, true FROM unnest(${everyone}::text[]) AS u
    UNION ALL SELECT ${seed}::bigint, 'external:mint', ${-COINS * everyone.length}::bigint, true`.execute(db.db);
  await sql`INSERT INTO wallets (account, balance) SELECT 'user:' || u, ${COINS}::bigint FROM unnest(${everyone}::text[]) AS u`.execute(db.db);
  await sql`CREATE TABLE naive_wallets (account text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))`.execute(db.db);
  await sql`CREATE TABLE naive_txns (id bigserial PRIMARY KEY, scope text NOT NULL, idempotency_key text NOT NULL, outcome jsonb, UNIQUE (scope, idempotency_key))`.execute(db.db);
  await sql`
    CREATE TABLE naive_gifts (id bigserial PRIMARY KEY, room_id text NOT NULL, sender_id text NOT NULL, recipient_id text NOT NULL,
      gift_id text NOT NULL, quantity integer NOT NULL, coins bigint NOT NULL, day date NOT NULL, sent_at timestamptz NOT NULL DEFAULT now())`.execute(db.db);
  await sql`
    CREATE TABLE naive_leaderboard (room_id text NOT NULL, period text NOT NULL, sender_id text NOT NULL, coins bigint NOT NULL, gifts bigint NOT NULL,
      PRIMARY KEY (room_id, period, sender_id))`.execute(db.db);
  await sql`
    INSERT INTO naive_wallets (account, balance)
    SELECT u, ${COINS}::bigint FROM unnest(${everyone}::text[]) AS u
    UNION ALL SELECT 'owner-' || r, 0 FROM unnest(${[...rooms, 'hot']}::text[]) AS r`.execute(db.db);
  await sql`ANALYZE`.execute(db.db);

  const keys = testSessionKeys(SESSION_SECRET);
  const tokens = new Map(everyone.map((u) => [u, signSessionToken({ id: u, name: `viewer ${u}` }, keys)]));

  // A small chat stream: the gifts service ensures every stream at boot, and the bench needs no 8 GB reservation.
  const common = { NATS_NAMESPACE: env.topology.namespace, DATABASE_URL: testDb.url, SESSION_JWT_SECRET: SESSION_SECRET, LOG_LEVEL: 'warn', DB_POOL_MAX: POOL, CHAT_MAX_BYTES: '268435456' };
  const servers: Record<'gifts' | 'naive', SpawnedService & { port: number }> = {
    gifts: await (async () => {
      const port = await freePortForTests();
      const s = await spawnService({
        main: fileURLToPath(new URL('../../apps/gifts/src/main.ts', import.meta.url)),
        port,
        env: { ...common, ADMIN_TOKEN: ADMIN, GIFT_RATE_BURST: '1000000', GIFT_RATE_PER_S: '1000000' },
      });
      spawned.push(s);
    return Object.assign(s, { port });
    })(),
    naive: await (async () => {
      const port = await freePortForTests();
      const s = await spawnService({ main: here('./gifts-naive.ts'), port, env: common });
    spawned.push(s);
    return Object.assign(s, { port });
    })(),
  };

  function post(port: number, path: string, token: string, body: string): Promise<number> {
    return new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  }

  interface Phase {
    name: string;
    rate: number;
    /** The i-th gift: room and sender. */
    pick(i: number): { room: string; sender: string };
  }
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const spreadAt = (rate: number): Phase => ({ name: `spread: ${ROOMS.toLocaleString('en-US')} rooms`, rate, pick: () => ({ room: rooms[rnd(ROOMS)]!, sender: spreadSenders[rnd(SENDERS)]! }) });
const PLAN_RATE = Math.round(10_000 / 60);
  const hot: Phase = { name: 'hot room, distinct senders', rate: HOT_RATE, pick: (i) => ({ room: 'hot', sender: hotSenders[i]! }) };

  async function run(server: 'gifts' | 'naive', phase: Phase) {
    const { port, child } = servers[server];
    const total = phase.rate * (WARMUP_S + SECONDS);
    const warm = phase.rate * WARMUP_S;
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const inFlight = new Set<Promise<void>>();
    const start = performance.now();
    let cpu0 = 0;
    let measuredFrom = 0;
    let lastDone = 0;
    let sentAll = 0;
    for (let i = 0; i < total; i++) {
      const due = start + (i / phase.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 2) await sleep(wait);
      if (i === warm) {
        cpu0 = cpuSeconds(child.pid!);
        measuredFrom = due;
      }
      const { room, sender } = phase.pick(i);
      const body = JSON.stringify({ giftId: 'heart', quantity: 1, idempotencyKey: `${server}-${phase.rate}-${room}-${i}` });
      const p = post(port, `/v1/rooms/${room}/gifts`, tokens.get(sender)!, body).then((status) => {
        if (status === 201) sentAll++;
        if (i < warm) return;
        const done = performance.now();
        lastDone = Math.max(lastDone, done);
        latencies.push(done - due);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all(inFlight);
    const cpu = cpuSeconds(child.pid!) - cpu0;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    const sent = statuses.get(201) ?? 0;
    return {
      server,
      phase: phase.name,
      offered: phase.rate,
      achieved: sent / ((lastDone - measuredFrom) / 1000),
      sent,
      sentAll,
      statuses: [...statuses].map(([s, n]) => `${s}×${n}`).join(' '),
      p50: q(0.5),
      p99: q(0.99),
      max: latencies.at(-1)!,
      cpuMsPerGift: (cpu * 1000) / latencies.length,
    };
  }

  // Other work on the same cores changes every figure: the load average says how much there was.
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  log(`bench:gifts — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${SECONDS} s per case after ${WARMUP_S} s warm-up; ${POOL} Postgres connections per server; load average at start ${load()}`);
  const count = async (query: ReturnType<typeof sql<{ n: number }>>) => (await query.execute(db.db)).rows[0]!.n;
  const settled = async () => {
    await waitFor(() => count(sql<{ n: number }>`SELECT count(*)::int AS n FROM gifts WHERE published_at IS NULL`), (n) => n === 0, { what: 'every gift published', timeoutMs: 120_000 });
    await waitFor(() => count(sql<{ n: number }>`SELECT count(*)::int AS n FROM ledger_entries WHERE NOT folded`), (n) => n === 0, { what: 'every credit folded', timeoutMs: 120_000 });
  };
  const results = [];
  for (const server of ['gifts', 'naive'] as const) {
    // The spread at the hot room's rate is the hot room's fair comparison: the same gifts/s, 5,000 rooms or one.
  for (const phase of [spreadAt(PLAN_RATE), spreadAt(HOT_RATE), spreadAt(RATE), hot]) {
      results.push(await run(server, phase));
      // The next case starts on a quiet ledger: a saturated case leaves credits to fold and gifts to publish.
      await settled();
      await sleep(1_000);
    }
  }

  log('');
  log('| server | case | offered/s | gifts/s | 201s | statuses | p50 | p99 | max | server CPU ms per gift |');
  log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    log(
      `| ${r.server === 'gifts' ? 'gifts service' : 'naive baseline'} | ${r.phase} | ${r.offered} | ${r.achieved.toFixed(0)} | ${r.sent.toLocaleString('en-US')} | ${r.statuses} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(0)} ms | ${r.cpuMsPerGift.toFixed(2)} |`,
    );
  }
  log(`load average at the end: ${load()}`);
  const [gp, gm, gs, gh, np, nm, ns, nh] = results;
  log('');
  log(`hot room p99 / spread p99 at the same ${HOT_RATE}/s: gifts service ${(gh!.p99 / gm!.p99).toFixed(2)}×, naive ${(nh!.p99 / nm!.p99).toFixed(2)}×`);

  // ---- coins moved exactly once: every 201 is one gift row, the ledger balances, every gift published
  const stored = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM gifts`.execute(db.db)).rows[0]!.n;
  const answered = gp!.sentAll + gm!.sentAll + gs!.sentAll + gh!.sentAll;
  await settled();
  const check = (await (await fetch(`http://127.0.0.1:${servers.gifts.port}/v1/ledger/check`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { ok: boolean };
  log(`gifts rows ${stored.toLocaleString('en-US')} (201s answered, warm-up included: ${answered.toLocaleString('en-US')}); all published; ledger check ok: ${check.ok}`);
} finally {
  agent.destroy();
  await Promise.all(spawned.map((p) => p.kill('SIGTERM')));
  await db.close();
  await env.cleanup();
  await testDb.drop();
}
process.exit(0);
