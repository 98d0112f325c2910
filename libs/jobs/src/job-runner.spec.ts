import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { connectMessaging, type Messaging } from '@onair/messaging';
import { createTestTopology, TEST_NATS_URL } from '@onair/messaging/testing';
import { waitFor } from '@onair/service-kit/testing';
import { createJobRunner, type JobDefinition, type JobRunner } from './job-runner';
import { daily, everyMinutes, hourly, previousUtcDay } from './schedule';

const logger = pino({ level: 'silent' });
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
const runners: JobRunner[] = [];
const connections: Messaging[] = [];

beforeAll(async () => {
  env = await createTestTopology('jobs');
  testDb = await createTestDatabase('jobs');
  handle = createDb({ url: testDb.url, poolMax: 6 });
  await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
});
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop().catch(() => undefined)));
  await Promise.all(connections.map((c) => c.nc.close().catch(() => undefined)));
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

/** A replica: its own NATS connection, as separate processes have. */
async function replica(worker: string, jobs: JobDefinition[], now: () => Date, registry = new Registry()) {
  const messaging = await connectMessaging({ url: TEST_NATS_URL, name: worker, logger });
  connections.push(messaging);
  const runner = createJobRunner({ messaging, topology: env.topology, db: handle.db, jobs, worker, logger, registry, now });
  runners.push(runner);
  return { runner, messaging, registry };
}

const runs = async (name: string) =>
  (
    await sql<{ period_key: string; attempt: number; status: string; error: string | null }>`
      SELECT period_key, attempt, status, error FROM job_runs WHERE name = ${name} ORDER BY period_key, attempt`.execute(handle.db)
  ).rows;

describe('schedules', () => {
  it('give the latest due instant in UTC', () => {
    const now = new Date('2026-11-23T00:04:59Z');
    expect(daily({ hour: 0, minute: 5 }).latest(now).toISOString()).toBe('2026-11-22T00:05:00.000Z');
    expect(daily({ hour: 0, minute: 5 }).latest(new Date('2026-11-23T00:05:00Z')).toISOString()).toBe('2026-11-23T00:05:00.000Z');
    expect(hourly({ minute: 30 }).latest(now).toISOString()).toBe('2026-11-22T23:30:00.000Z');
    expect(everyMinutes(15).latest(now).toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(previousUtcDay(new Date('2026-11-23T00:05:00Z'))).toBe('2026-11-22');
  });
});

describe('job runner', () => {
  it('runs a job once per period however many replicas tick, however often', async () => {
    let clock = Date.parse('2026-11-23T00:05:10Z');
    const calls: string[] = [];
    const job: JobDefinition = {
      name: 'summary-once',
      schedule: daily({ hour: 0, minute: 5 }),
      periodKey: previousUtcDay,
      run: async ({ periodKey }) => {
        calls.push(periodKey);
      },
    };
    const a = await replica('a', [job], () => new Date(clock));
    const b = await replica('b', [job], () => new Date(clock));
    await Promise.all([a.runner.start(), b.runner.start()]);
    for (let i = 0; i < 5; i++) await Promise.all([a.runner.tick(), b.runner.tick()]);
    await waitFor(() => calls.length, (n) => n === 1, { what: 'the run' });
    // Later ticks the same day, past the stream's duplicate window: job_runs says it is done.
    clock += 3 * 3_600_000;
    for (let i = 0; i < 3; i++) await Promise.all([a.runner.tick(), b.runner.tick()]);
    clock += 24 * 3_600_000;
    await Promise.all([a.runner.tick(), b.runner.tick()]);
    await waitFor(() => calls.length, (n) => n === 2, { what: 'the next day' });
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toEqual(['2026-11-22', '2026-11-23']);
    expect(await runs('summary-once')).toEqual([
      { period_key: '2026-11-22', attempt: 1, status: 'succeeded', error: null },
      { period_key: '2026-11-23', attempt: 1, status: 'succeeded', error: null },
    ]);
  });

  it('completes a job exactly once when the worker running it dies', async () => {
    const clock = Date.parse('2026-11-23T01:00:00Z');
    const starts: string[] = [];
    const completions: string[] = [];
    const job = (worker: string): JobDefinition => ({
      name: 'killed-mid-job',
      schedule: hourly(),
      ackWaitMs: 2_000,
      run: async ({ periodKey }) => {
        starts.push(worker);
        // The first worker hangs as a killed process would: it never finishes; the second does.
        if (worker === 'doomed') await new Promise<void>(() => undefined);
        completions.push(`${worker}:${periodKey}`);
      },
    });
    const doomed = await replica('doomed', [job('doomed')], () => new Date(clock));
    await doomed.runner.start();
    await doomed.runner.tick();
    await waitFor(() => starts.length, (n) => n === 1, { what: 'the doomed worker to start' });
    // The process dies: its connection is gone, no ack, no heartbeat (and nothing left to stop).
    await doomed.messaging.nc.close();
    runners.splice(runners.indexOf(doomed.runner), 1);
    const survivor = await replica('survivor', [job('survivor')], () => new Date(clock));
    await survivor.runner.start();
    await waitFor(() => completions.length, (n) => n === 1, { what: 'redelivery to the survivor', timeoutMs: 30_000 });
    expect(completions).toEqual(['survivor:2026-11-23T01:00:00.000Z']);
    expect(await runs('killed-mid-job')).toEqual([
      { period_key: '2026-11-23T01:00:00.000Z', attempt: 1, status: 'failed', error: 'abandoned: the worker stopped answering' },
      { period_key: '2026-11-23T01:00:00.000Z', attempt: 2, status: 'succeeded', error: null },
    ]);
  });

  it('keeps a long job alive with progress heartbeats instead of handing it to another worker', async () => {
    const clock = Date.parse('2026-11-23T02:00:00Z');
    let starts = 0;
    const job: JobDefinition = {
      name: 'long-job',
      schedule: hourly(),
      ackWaitMs: 1_500,
      run: async () => {
        starts++;
        await new Promise((r) => setTimeout(r, 5_000));
      },
    };
    const a = await replica('long-a', [job], () => new Date(clock));
    const b = await replica('long-b', [job], () => new Date(clock));
    await Promise.all([a.runner.start(), b.runner.start()]);
    await a.runner.tick();
    await waitFor(async () => (await runs('long-job')).map((r) => r.status).join(), (s) => s === 'succeeded', { what: 'the long job', timeoutMs: 30_000 });
    expect(starts).toBe(1);
  });

  it('retries a failing job with backoff, then gives up and counts the failure', async () => {
    const clock = Date.parse('2026-11-23T03:00:00Z');
    const job: JobDefinition = {
      name: 'always-fails',
      schedule: hourly(),
      maxAttempts: 2,
      run: async () => {
        throw new Error('telegram is down');
      },
    };
    const r = await replica('fails', [job], () => new Date(clock));
    await r.runner.start();
    await r.runner.tick();
    await waitFor(
      async () => (await r.registry.getSingleMetricAsString('jobs_failed_total')).match(/job="always-fails"\S* (\d+)/)?.[1],
      (n) => n === '1',
      { what: 'the job to be given up', timeoutMs: 30_000 },
    );
    expect(await runs('always-fails')).toEqual([
      { period_key: '2026-11-23T03:00:00.000Z', attempt: 1, status: 'failed', error: 'telegram is down' },
      { period_key: '2026-11-23T03:00:00.000Z', attempt: 2, status: 'failed', error: 'telegram is down' },
    ]);
  });
});
