import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { publishStored } from '@onair/messaging';
import { createTestTopology } from '@onair/messaging/testing';
import { createTelegramNotifier } from '@onair/notifier';
import { startFakeTelegram, type FakeTelegram } from '@onair/notifier/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { waitFor } from '@onair/service-kit/testing';
import { buildApp, type SummaryService } from '../app';
import { parseRerunPeriodKey, RERUN_JOB } from './rerun-key';

/**
 * POST /v1/summaries/rerun through the durable job substrate on real NATS and Postgres, with the local
 * Telegram-speaking server: the answer comes before the run, a rerun recomputes a day whose data
 * changed, one with notify sends the day's message even though the scheduled run sent it already, every
 * request sends once, and a repeated delivery of one request never sends twice.
 */
const DAY = '2026-11-22';
const ADMIN = 'rerun-spec-admin-token-0123456789';
/** Today is 2026-11-23 (UTC); 30 days of retention keep 2026-10-24 and later. */
const NOW = new Date('2026-11-23T15:00:00Z');
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let telegram: FakeTelegram;
let service: SummaryService;
let operatorToken: string;

const post = (body: unknown, token = ADMIN, key?: string) =>
  service.server.app.inject({
    method: 'POST',
    url: '/v1/summaries/rerun',
    headers: { authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload: body as object,
  });
const get = (url: string) => service.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });

const runsOf = async (periodKey: string) =>
  (await sql<{ status: string }>`SELECT status FROM job_runs WHERE name = ${RERUN_JOB} AND period_key = ${periodKey} ORDER BY id`.execute(handle.db)).rows;
const succeeded = (periodKey: string) => waitFor(() => runsOf(periodKey), (r) => r.some((x) => x.status === 'succeeded'), { what: `the rerun ${periodKey}` });
const viewerHours = async () =>
  (await sql<{ viewer_hours: string }>`SELECT viewer_hours::text FROM daily_summaries WHERE day = ${DAY} AND channel_id = 1`.execute(handle.db)).rows[0]
    ?.viewer_hours;
const dayMessages = () => telegram.messages.filter((m) => m.text.includes(`Daily summary ${DAY}`));
const addLiveHour = (hour: number, viewers: number) =>
  sql`
    INSERT INTO probes (ts, channel_id, is_live, viewer_count, stream_started_at)
    SELECT ${`${DAY}T${String(hour).padStart(2, '0')}:00:00Z`}::timestamptz + make_interval(mins => g), 1, true, ${viewers},
           ${`${DAY}T${String(hour).padStart(2, '0')}:00:00Z`}::timestamptz
    FROM generate_series(0, 59) g`.execute(handle.db);

beforeAll(async () => {
  env = await createTestTopology('summary-rerun');
  testDb = await createTestDatabase('summary_rerun');
  handle = createDb({ url: testDb.url, poolMax: 6 });
  await migrateToLatest(handle.db, NOW);
  telegram = await startFakeTelegram();
  await sql`INSERT INTO streamers (id, display_name) VALUES (1, 'Alice')`.execute(handle.db);
  await sql`INSERT INTO streamer_channels (id, streamer_id, platform, platform_user_id, slug) VALUES (1, 1, 'kick', '4242', 'alice')`.execute(handle.db);
  await addLiveHour(10, 120);
  service = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('summary'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    notifier: createTelegramNotifier({ apiBase: telegram.apiBase, botToken: telegram.token, chatId: telegram.chatId, maxRetries: 0 }),
    retentionDays: 30,
    worker: 'rerun-spec',
    adminToken: ADMIN,
    now: () => NOW,
  });
  await service.server.app.ready();
  await service.jobs.start();
  const created = await service.server.app.inject({
    method: 'POST',
    url: '/v1/operators',
    headers: { authorization: `Bearer ${ADMIN}` },
    payload: { name: 'olga', role: 'operator' },
  });
  operatorToken = created.json().token;
});
afterAll(async () => {
  await service?.stop();
  await service?.server.app.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
  await telegram?.close();
});

describe('POST /v1/summaries/rerun', () => {
  it('refuses days it cannot or must not rerun, non-admins and malformed bodies, and audits none of them', async () => {
    for (const [body, status, code] of [
      [{ day: '2026-11-24', notify: false }, 422, 'day_in_future'],
      [{ day: '2027-01-01', notify: true }, 422, 'day_in_future'],
      [{ day: '2026-10-23', notify: false }, 422, 'day_out_of_retention'],
      [{ day: '2026-02-30', notify: false }, 422, 'validation_failed'],
      [{ day: '22-11-2026', notify: false }, 422, 'validation_failed'],
      [{ day: DAY }, 422, 'validation_failed'],
      [{ day: DAY, notify: 'yes' }, 422, 'validation_failed'],
      [{ day: DAY, notify: false, extra: 1 }, 422, 'validation_failed'],
    ] as const) {
      const res = await post(body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    const forbidden = await post({ day: DAY, notify: false }, operatorToken);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('forbidden');
    expect((await get('/v1/audit')).json().items.filter((e: { action: string }) => e.action === 'summary.rerun')).toEqual([]);
  });

  it('the scheduled run stores the day and sends its message', async () => {
    await service.jobs.tick();
    await waitFor(
      async () => (await sql<{ status: string }>`SELECT status FROM job_runs WHERE name = 'daily-summary' AND period_key = ${DAY}`.execute(handle.db)).rows,
      (r) => r.some((x) => x.status === 'succeeded'),
      { what: 'the scheduled daily summary' },
    );
    expect(await viewerHours()).toBe('120.0000');
    expect(dayMessages()).toHaveLength(1);
  });

  it('with notify=false recomputes a changed day, answers before the run, and sends nothing', async () => {
    await addLiveHour(12, 60);
    // The day's stored row is held locked: the run cannot store, yet the answer comes.
    const res = await handle.db.connection().execute(async (conn) => {
      await sql`BEGIN`.execute(conn);
      await sql`SELECT 1 FROM daily_summaries WHERE day = ${DAY} AND channel_id = 1 FOR UPDATE`.execute(conn);
      try {
        const answer = await post({ day: DAY, notify: false });
        expect(answer.statusCode, answer.body).toBe(202);
        const running = await waitFor(() => runsOf(answer.json().periodKey), (r) => r.length > 0, { what: 'the rerun to start' });
        expect(running).toEqual([{ status: 'running' }]);
        return answer;
      } finally {
        await sql`COMMIT`.execute(conn);
      }
    });
    const body = res.json();
    expect(body).toEqual({ day: DAY, notify: false, jobKey: `${RERUN_JOB}:${body.periodKey}`, job: RERUN_JOB, periodKey: expect.any(String) });
    expect(parseRerunPeriodKey(body.periodKey)).toEqual({ day: DAY, notify: false, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await succeeded(body.periodKey);
    expect(await viewerHours()).toBe('180.0000');
    expect(dayMessages()).toHaveLength(1);
    const jobs = (await get(`/v1/jobs?name=${RERUN_JOB}`)).json().items;
    expect(jobs).toEqual([expect.objectContaining({ name: RERUN_JOB, periodKey: body.periodKey, status: 'succeeded', attempt: 1 })]);
    const audit = (await get('/v1/audit')).json().items.filter((e: { action: string }) => e.action === 'summary.rerun');
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'admin-token',
        at: NOW.toISOString(),
        target: { type: 'summary', id: DAY },
        before: null,
        after: { day: DAY, notify: false, jobKey: body.jobKey },
      }),
    ]);
    const filtered = (await get(`/v1/audit?targetType=summary&targetId=${DAY}`)).json().items;
    expect(filtered.map((e: { after: { jobKey: string } }) => e.after.jobKey)).toEqual([body.jobKey]);
  });

  it('with notify=true sends the day again (once), and a second request sends once more', async () => {
    const first = (await post({ day: DAY, notify: true })).json();
    await succeeded(first.periodKey);
    expect(dayMessages()).toHaveLength(2);
    expect(dayMessages()[1]!.text).toContain('alice');
    const second = (await post({ day: DAY, notify: true })).json();
    expect(second.periodKey).not.toBe(first.periodKey);
    await succeeded(second.periodKey);
    expect(dayMessages()).toHaveLength(3);
    const { rows } = await sql<{ kind: string; message_key: string; state: string }>`
      SELECT kind, message_key, state FROM telegram_sends WHERE period_key = ${DAY} ORDER BY id`.execute(handle.db);
    expect(rows).toEqual([
      { kind: 'daily-summary', message_key: expect.any(String), state: 'sent' },
      { kind: 'daily-summary-rerun', message_key: parseRerunPeriodKey(first.periodKey)!.requestId, state: 'sent' },
      { kind: 'daily-summary-rerun', message_key: parseRerunPeriodKey(second.periodKey)!.requestId, state: 'sent' },
    ]);
  });

  it('one request delivered again (its success record lost, a new msgID) does not send a second time', async () => {
    const res = (await post({ day: DAY, notify: true })).json();
    await succeeded(res.periodKey);
    expect(dayMessages()).toHaveLength(4);
    await sql`DELETE FROM job_runs WHERE name = ${RERUN_JOB} AND period_key = ${res.periodKey}`.execute(handle.db);
    const request = { name: RERUN_JOB, periodKey: res.periodKey, scheduledFor: NOW.toISOString() };
    await publishStored(env.messaging, env.topology.jobs.subject(RERUN_JOB), JSON.stringify(request), `${res.jobKey}:again`);
    await succeeded(res.periodKey);
    expect(dayMessages()).toHaveLength(4);
  });
  it('one Idempotency-Key is one rerun: racing, repeated and late retries answer the first one and send once', async () => {
    const before = dayMessages().length;
    const auditedWith = async (key: string) =>
      (await get('/v1/audit?targetType=summary')).json().items.filter((e: { after: { idempotencyKey?: string } }) => e.after.idempotencyKey === key);
    const key = 'console-3f1c0e6a9b2d4c58';
    // Five at once: the unique index makes them one; the others wait on it and answer with its run.
    const racing = await Promise.all(Array.from({ length: 5 }, () => post({ day: DAY, notify: true }, ADMIN, key)));
    expect(racing.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202]);
    const jobKeys = new Set(racing.map((r) => r.json().jobKey));
    expect(jobKeys.size).toBe(1);
    expect(racing.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
    const first = racing[0]!.json();
    await succeeded(first.periodKey);
    expect(dayMessages()).toHaveLength(before + 1);
    // A retry after the run succeeded (past any JetStream duplicate window that would matter here).
    const late = await post({ day: DAY, notify: true }, ADMIN, key);
    expect(late.statusCode).toBe(202);
    expect(late.headers['idempotent-replayed']).toBe('true');
    expect(late.json()).toEqual(first);
    expect(await auditedWith(key)).toHaveLength(1);
    expect(await runsOf(first.periodKey)).toEqual([{ status: 'succeeded' }]);
    // The same key for another request is refused, and queues nothing.
    const reused = await post({ day: '2026-11-21', notify: false }, ADMIN, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('idempotency_key_reused');
    const badKeys = await Promise.all(['', 'with space', 'x'.repeat(129)].map((k) => post({ day: DAY, notify: false }, ADMIN, k)));
    expect(badKeys.map((r) => [r.statusCode, r.json().error.code])).toEqual(Array(3).fill([400, 'invalid_headers']));
    // Another key is another rerun.
    const other = (await post({ day: DAY, notify: true }, ADMIN, `${key}-2`)).json();
    expect(other.jobKey).not.toBe(first.jobKey);
    await succeeded(other.periodKey);
    // Give a wrongly queued second run of the first key time to send, then count.
    await new Promise((r) => setTimeout(r, 300));
    expect(dayMessages()).toHaveLength(before + 2);
    expect(await auditedWith(key)).toHaveLength(1);
  });
});
