import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createDb, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';

/**
 * The real summary process with its clock moved by faketime: which periods its own tick enqueues (and
 * runs) on the night of the leap day. Only the process's clock moves; Postgres and NATS keep theirs,
 * which is fine here because the process alone decides the period (`<job>:<period>`) and writes the
 * times it read into job_runs.
 */
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let nats: Awaited<ReturnType<typeof createTestTopology>>;
let handle: Db;
const procs: SpawnedService[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase('summary_faketime');
  nats = await createTestTopology('summary-faketime');
  handle = createDb({ url: testDb.url, poolMax: 2 });
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await handle?.close();
  await nats?.cleanup();
  await testDb?.drop();
});

async function startAt(at: string): Promise<{ proc: SpawnedService; port: number }> {
  const port = await freePortForTests();
  const proc = await spawnService({
    main: MAIN,
    port,
    fakeTime: { at },
    env: {
      NATS_NAMESPACE: nats.topology.namespace,
      DATABASE_URL: testDb.url,
      CLICKHOUSE_URL: '',
      LOG_LEVEL: 'warn',
      JOB_TICK_MS: '1000',
      ADMIN_TOKEN: 'faketime-spec-admin-token-0123456789',
    },
  });
  procs.push(proc);
  return { proc, port };
}

/** The process's own clock, as its HTTP `Date` header states it (whole seconds). */
async function processClock(port: number): Promise<number> {
  return Date.parse((await fetch(`http://127.0.0.1:${port}/healthz`)).headers.get('date')!);
}

const runs = async () =>
  (
    await sql<{ name: string; period_key: string; status: string; started_at: Date }>`
      SELECT name, period_key, status, started_at FROM job_runs ORDER BY started_at, name`.execute(handle.db)
  ).rows.map((r) => ({ name: r.name, period: r.period_key, status: r.status, startedAt: r.started_at.toISOString() }));

const partitions = async () =>
  (
    await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'probes' ORDER BY 1`.execute(handle.db)
  ).rows.map((r) => r.name);

describe('summary process under faketime', () => {
  it('at 2028-02-29 23:59:50 summarises the 28th, and past midnight still does not summarise the unfinished 29th', async () => {
    const { proc, port } = await startAt('2028-02-29 23:59:50');
    // Migrations made the partitions around the process's date, not the calendar's.
    expect(await partitions()).toEqual(['probes_2028_01', 'probes_2028_02', 'probes_2028_03', 'probes_2028_04', 'probes_2028_05']);
    await waitFor(async () => (await runs()).filter((r) => r.status === 'succeeded').length, (n) => n === 3, { what: 'the three runs due', timeoutMs: 30_000 });
    const before = await runs();
    expect(before.map(({ name, period }) => ({ name, period })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'daily-summary', period: '2028-02-28' },
      { name: 'partitions-ahead', period: '2028-02-29' },
      { name: 'retention', period: '2028-02-29' },
    ]);
    for (const run of before) expect(run.startedAt >= '2028-02-29T23:59:50' && run.startedAt < '2028-03-01T00:00:00').toBe(true);

    // Wait until the process's clock is past midnight, then let it tick a few more times.
    await waitFor(() => processClock(port), (t) => t >= Date.parse('2028-03-01T00:00:02Z'), { what: 'the process to pass midnight', timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 3_500));
    // 1 March has begun, but the daily summary of 29 February is due at 00:05, not before.
    expect(await runs()).toEqual(before);
    expect(await proc.kill('SIGTERM'), proc.output()).toBe(0);
  });

  it('at 2028-03-01 00:04:57 summarises the leap day once 00:05 has passed', async () => {
    const { proc } = await startAt('2028-03-01 00:04:57');
    await waitFor(
      async () => (await runs()).find((r) => r.name === 'daily-summary' && r.period === '2028-02-29' && r.status === 'succeeded'),
      (run) => run !== undefined,
      { what: 'the leap day summary', timeoutMs: 30_000 },
    );
    const leap = (await runs()).find((r) => r.name === 'daily-summary' && r.period === '2028-02-29')!;
    expect(leap.startedAt >= '2028-03-01T00:05:00.000Z' && leap.startedAt < '2028-03-01T00:05:30.000Z', JSON.stringify(await runs())).toBe(true);
    // partitions-ahead and retention are due at 00:10 and 00:20: their 1 March periods are not yet.
    expect((await runs()).filter((r) => r.period === '2028-03-01')).toEqual([]);
    expect(await proc.kill('SIGTERM'), proc.output()).toBe(0);
  });
});
