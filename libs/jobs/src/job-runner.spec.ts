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

describe('on-demand jobs (no schedule)', () => {
  it('are never enqueued by a tick, and run once per period key they are enqueued with', async () => {
    const calls: string[] = [];
    const job: JobDefinition = { name: 'on-demand', run: async ({ periodKey }) => void calls.push(periodKey) };
    const { runner } = await replica('on-demand', [job], () => new Date('2026-11-23T12:00:00Z'));
    await runner.start();
    for (let i = 0; i < 3; i++) await runner.tick();
    const info = await env.messaging.jsm.streams.info(env.topology.jobs.stream, { subjects_filter: env.topology.jobs.subject('on-demand') });
    expect(info.state.subjects ?? {}).toEqual({});
    expect(await runner.enqueue('on-demand', 'request-1')).toEqual({ duplicate: false });
    expect(await runner.enqueue('on-demand', 'request-1')).toEqual({ duplicate: true });
    await runner.enqueue('on-demand', 'request-2');
    await waitFor(() => calls.length, (n) => n === 2, { what: 'both requests' });
    expect(calls).toEqual(['request-1', 'request-2']);
  });
});

describe('job runner at the calendar edges (injected clock)', () => {
  /** The request a tick left on a job's subject, with the msgID it was deduplicated by. */
  async function lastRequest(name: string) {
    const stored = await env.messaging.jsm.streams.getMessage(env.topology.jobs.stream, { last_by_subj: env.topology.jobs.subject(name) });
    if (!stored) throw new Error(`no request for ${name}`);
    const request = stored.json<{ periodKey: string; scheduledFor: string }>();
    return { msgId: stored.header.get('Nats-Msg-Id'), periodKey: request.periodKey, scheduledFor: request.scheduledFor };
  }

  it.each([
    // now                          daily 00:05 → day covered      hourly :00                     every 15 minutes
    ['2026-11-30T23:59:59.999Z', '2026-11-29', '2026-11-30T23:00:00.000Z', '2026-11-30T23:45:00.000Z'],
    ['2026-12-01T00:00:00.000Z', '2026-11-29', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-31T23:59:50.000Z', '2026-12-30', '2026-12-31T23:00:00.000Z', '2026-12-31T23:45:00.000Z'],
    ['2027-01-01T00:00:00.000Z', '2026-12-30', '2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-31T23:59:59.000Z', '2027-01-30', '2027-01-31T23:00:00.000Z', '2027-01-31T23:45:00.000Z'],
    ['2027-02-01T00:05:00.000Z', '2027-01-31', '2027-02-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2028-02-29T23:59:50.000Z', '2028-02-28', '2028-02-29T23:00:00.000Z', '2028-02-29T23:45:00.000Z'],
    ['2028-03-01T00:00:00.000Z', '2028-02-28', '2028-03-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['2028-03-01T00:05:00.000Z', '2028-02-29', '2028-03-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('a tick at %s enqueues <job>:<period> for the period due then', async (now, day, hour, quarter) => {
    const suffix = now.replace(/\D/g, '');
    const jobs: JobDefinition[] = [
      { name: `edge-daily-${suffix}`, schedule: daily({ hour: 0, minute: 5 }), periodKey: previousUtcDay, run: async () => undefined },
      { name: `edge-hourly-${suffix}`, schedule: hourly(), run: async () => undefined },
      { name: `edge-quarter-${suffix}`, schedule: everyMinutes(15), run: async () => undefined },
    ];
    // Never started: the requests stay in the work queue for the test to read.
    const { runner } = await replica(`edge-${suffix}`, jobs, () => new Date(now));
    await runner.tick();
    expect(await lastRequest(jobs[0]!.name)).toMatchObject({ msgId: `${jobs[0]!.name}:${day}`, periodKey: day });
    expect(await lastRequest(jobs[1]!.name)).toEqual({ msgId: `${jobs[1]!.name}:${hour}`, periodKey: hour, scheduledFor: hour });
    expect(await lastRequest(jobs[2]!.name)).toEqual({ msgId: `${jobs[2]!.name}:${quarter}`, periodKey: quarter, scheduledFor: quarter });
  });

  it('runs the leap day once its day is over, and records every time from the injected clock', async () => {
    let clock = Date.parse('2028-02-29T23:59:50Z');
    const covered: string[] = [];
    const job: JobDefinition = {
      name: 'edge-leap-day',
      schedule: daily({ hour: 0, minute: 5 }),
      periodKey: previousUtcDay,
      run: async ({ periodKey }) => void covered.push(periodKey),
    };
    const r = await replica('edge-leap', [job], () => new Date(clock));
    await r.runner.start();
    // 23:59:50 on the leap day, then past midnight, then the 00:05 run that covers the leap day itself.
    for (const [at, succeeded] of [
      ['2028-02-29T23:59:50Z', 1],
      ['2028-03-01T00:00:00Z', 1],
      ['2028-03-01T00:04:59.999Z', 1],
      ['2028-03-01T00:05:00Z', 2],
    ] as const) {
      clock = Date.parse(at);
      await r.runner.tick();
      await waitFor(async () => (await runs('edge-leap-day')).filter((run) => run.status === 'succeeded').length, (n) => n === succeeded, {
        what: `the runs due by ${at}`,
      });
    }
    expect(covered).toEqual(['2028-02-28', '2028-02-29']);
    const { rows } = await sql<{ period_key: string; started_at: Date; finished_at: Date }>`
      SELECT period_key, started_at, finished_at FROM job_runs WHERE name = 'edge-leap-day' ORDER BY period_key`.execute(handle.db);
    expect(rows.map((row) => [row.period_key, row.started_at.toISOString(), row.finished_at.toISOString()])).toEqual([
      ['2028-02-28', '2028-02-29T23:59:50.000Z', '2028-02-29T23:59:50.000Z'],
      ['2028-02-29', '2028-03-01T00:05:00.000Z', '2028-03-01T00:05:00.000Z'],
    ]);
    const lastSuccess = await r.registry.getSingleMetricAsString('job_last_success_timestamp_seconds');
    expect(lastSuccess).toContain(`job_last_success_timestamp_seconds{job="edge-leap-day"} ${Date.parse('2028-03-01T00:05:00Z') / 1000}`);
  });
});
