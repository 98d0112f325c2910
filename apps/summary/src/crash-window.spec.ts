import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createDb, ensureMonthlyPartition, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { publishStored } from '@onair/messaging';
import { createTestTopology } from '@onair/messaging/testing';
import { startFakeTelegram, type FakeTelegram } from '@onair/notifier/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';

/**
 * The daily message survives a worker that dies between Telegram's answer and the run's commit: the
 * summary service runs as its own process, is killed for real (SIGKILL) inside that window, a new process
 * gets the redelivered day, and the local Telegram-speaking server has received exactly one message.
 *
 * Days are fixed and passed in the job request; nothing depends on today's date. The processes' own
 * ticks enqueue the wall clock's yesterday too: its messages name another day and are left out of the
 * counts, and RETENTION_DAYS is a century so no partition of the fixed days is ever dropped.
 */
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const NOW = new Date('2026-11-23T00:05:30Z');
const ACK_WAIT_MS = 3_000;
let nats: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let telegram: FakeTelegram;
const processes: SpawnedService[] = [];

async function summaryProcess(worker: string): Promise<{ service: SpawnedService; port: number }> {
  const port = await freePortForTests();
  const service = await spawnService({
    main: MAIN,
    port,
    env: {
      NATS_NAMESPACE: nats.topology.namespace,
      DATABASE_URL: testDb.url,
      CLICKHOUSE_URL: '',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN: 'crash-spec-admin-token-0123456789',
      TELEGRAM_API_BASE: telegram.apiBase,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_CHAT_ID: telegram.chatId,
      DAILY_SUMMARY_ACK_WAIT_MS: String(ACK_WAIT_MS),
      JOB_TICK_MS: '3600000',
      RETENTION_DAYS: '36500',
      WORKER_ID: worker,
    },
  });
  processes.push(service);
  return { service, port };
}

async function requestDay(day: string): Promise<void> {
  const request = { name: 'daily-summary', periodKey: day, scheduledFor: `${day}T00:05:00.000Z` };
  await publishStored(nats.messaging, nats.topology.jobs.subject('daily-summary'), JSON.stringify(request), `daily-summary:${day}`);
}

const sentFor = (day: string) => telegram.messages.filter((m) => m.text.includes(`Daily summary ${day}`));
const sendRows = async (day: string) =>
  (await sql<{ state: string; worker: string; message_ids: string[]; error: string | null }>`
    SELECT state, worker, message_ids, error FROM telegram_sends WHERE kind = 'daily-summary' AND period_key = ${day}`.execute(handle.db)).rows;
const runs = async (day: string) =>
  (await sql<{ attempt: number; status: string; worker: string }>`
    SELECT attempt, status, worker FROM job_runs WHERE name = 'daily-summary' AND period_key = ${day} ORDER BY attempt`.execute(handle.db)).rows;
/** Backends of this test's database waiting for a row lock. */
const lockWaiters = async () =>
  (await sql<{ pid: number; query: string }>`
    SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(handle.db)).rows;

beforeAll(async () => {
  nats = await createTestTopology('summary-crash');
  testDb = await createTestDatabase('summary_crash');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, NOW);
  telegram = await startFakeTelegram();
  const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES ('Alice') RETURNING id`.execute(handle.db);
  await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (${rows[0]!.id}, 'kick', '4242', 'alice')`.execute(handle.db);
  for (const day of ['2026-11-21', '2026-11-22']) {
    await ensureMonthlyPartition(handle.db, 'probes', new Date(`${day}T00:00:00Z`));
    await sql`
      INSERT INTO probes (ts, channel_id, is_live, viewer_count, stream_started_at)
      SELECT ${`${day}T10:00:00Z`}::timestamptz + make_interval(mins => g), 1, true, 120, ${`${day}T09:59:00Z`}::timestamptz
      FROM generate_series(0, 59) g`.execute(handle.db);
  }
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await nats?.cleanup();
  await handle?.close();
  await testDb?.drop();
  await telegram?.close();
});

describe('a worker killed inside the send window', () => {
  it('after Telegram answered but before `sent` was recorded: the day is not sent again, and its state says unknown', async () => {
    const DAY = '2026-11-22';
    const held = telegram.holdNextAnswer({ match: (m) => m.text.includes(`Daily summary ${DAY}`) });
    await requestDay(DAY);
    const { service: first } = await summaryProcess('crash-1');
    await held.accepted;
    expect(await sendRows(DAY)).toEqual([expect.objectContaining({ state: 'sending', worker: 'crash-1' })]);

    // Frozen, then answered: Telegram has posted and replied, and the worker never reads the reply.
    first.child.kill('SIGSTOP');
    held.release();
    await waitFor(() => telegram.requests.filter((r) => r.status === 200).length, (n) => n >= 1, { what: 'the held answer to go out' });
    await first.kill('SIGKILL');
    expect(sentFor(DAY)).toHaveLength(1);
    expect(await runs(DAY)).toEqual([{ attempt: 1, status: 'running', worker: 'crash-1' }]);

    const { service: second, port } = await summaryProcess('crash-2');
    await waitFor(() => runs(DAY), (r) => r.some((x) => x.status === 'succeeded'), { what: 'the redelivered day', timeoutMs: 40_000 });
    expect(await runs(DAY)).toEqual([
      { attempt: 1, status: 'failed', worker: 'crash-1' }, // abandoned: closed by the next attempt
      { attempt: 2, status: 'succeeded', worker: 'crash-2' },
    ]);
    expect(sentFor(DAY)).toHaveLength(1);
    expect(await sendRows(DAY)).toEqual([
      { state: 'unknown', worker: 'crash-1', message_ids: [], error: expect.stringMatching(/attempt by crash-1 .* never recorded Telegram's answer/) },
    ]);
    expect(second.output()).toMatch(/telegram message may or may not have been sent/);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/telegram_sends_total\{[^}]*kind="daily-summary"[^}]*outcome="unknown"[^}]*\} 1/);
  });

  it('after `sent` was recorded but before the run committed: the redelivered day skips the send', async () => {
    const DAY = '2026-11-21';
    const [running] = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    const held = telegram.holdNextAnswer({ match: (m) => m.text.includes(`Daily summary ${DAY}`) });
    await requestDay(DAY);
    await held.accepted;

    // Hold the run's own row so its commit (finishRun) waits, then let Telegram answer.
    let unlock!: () => void;
    const locked = new Promise<void>((resolve, reject) => {
      handle.db
        .transaction()
        .execute(async (tx) => {
          await sql`SELECT id FROM job_runs WHERE name = 'daily-summary' AND period_key = ${DAY} AND status = 'running' FOR UPDATE`.execute(tx);
          resolve();
          await new Promise<void>((r) => (unlock = r));
          throw new Error('rolled back on purpose');
        })
        .catch((error: Error) => (error.message === 'rolled back on purpose' ? undefined : reject(error)));
    });
    await locked;
    held.release();
    await waitFor(() => sendRows(DAY), (r) => r[0]?.state === 'sent', { what: '`sent` recorded' });
    const [waiter] = await waitFor(lockWaiters, (w) => w.some((x) => x.query.includes('job_runs')), { what: "the run's commit waiting" });
    await running!.kill('SIGKILL');
    // A dead worker's commit never reaches Postgres: end the statement the lock held back.
    await sql`SELECT pg_terminate_backend(${waiter!.pid})`.execute(handle.db);
    unlock();
    expect(await runs(DAY)).toEqual([{ attempt: 1, status: 'running', worker: 'crash-2' }]);

    const { service: third } = await summaryProcess('crash-3');
    await waitFor(() => runs(DAY), (r) => r.some((x) => x.status === 'succeeded'), { what: 'the redelivered day', timeoutMs: 40_000 });
    expect(sentFor(DAY)).toHaveLength(1);
    const [row] = await sendRows(DAY);
    expect(row).toEqual({ state: 'sent', worker: 'crash-2', message_ids: [String(sentFor(DAY)[0]!.messageId)], error: null });
    expect(third.output()).toMatch(/telegram message already sent: not sent again/);
    await third.kill('SIGTERM');
  });
});
