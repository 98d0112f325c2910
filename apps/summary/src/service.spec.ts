import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, ensureMonthlyPartition, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { connectMessaging, publishStored, type Messaging } from '@onair/messaging';
import { createTestTopology, TEST_NATS_URL } from '@onair/messaging/testing';
import { createTelegramNotifier } from '@onair/notifier';
import { startFakeTelegram, type FakeTelegram } from '@onair/notifier/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { waitFor } from '@onair/service-kit/testing';
import { buildApp, type SummaryService } from './app';

/**
 * The summary service end to end with two replicas: the day's job runs once, its figures land in
 * daily_summaries, the local Telegram-speaking server gets one message, and a failing notifier is
 * retried until the run succeeds.
 */
const DAY = '2026-11-22';
const ADMIN = 'summary-spec-admin-token-0123456789';
let clock = Date.parse('2026-11-23T00:05:30Z');
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let telegram: FakeTelegram;
const services: SummaryService[] = [];
const connections: Messaging[] = [];

async function replica(worker: string): Promise<SummaryService> {
  const messaging = await connectMessaging({ url: TEST_NATS_URL, name: worker, logger: pino({ level: 'silent' }) });
  connections.push(messaging);
  const service = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('summary'),
    messaging,
    topology: env.topology,
    db: handle,
    notifier: createTelegramNotifier({ apiBase: telegram.apiBase, botToken: telegram.token, chatId: telegram.chatId, maxRetries: 0 }),
    retentionDays: 90,
    worker,
    adminToken: ADMIN,
    now: () => new Date(clock),
  });
  services.push(service);
  await service.jobs.start();
  return service;
}

beforeAll(async () => {
  env = await createTestTopology('summary-service');
  testDb = await createTestDatabase('summary_service');
  handle = createDb({ url: testDb.url, poolMax: 6 });
  await migrateToLatest(handle.db, new Date(clock));
  telegram = await startFakeTelegram();
  await ensureMonthlyPartition(handle.db, 'probes', new Date(`${DAY}T00:00:00Z`));
  const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES ('Alice') RETURNING id`.execute(handle.db);
  await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (${rows[0]!.id}, 'kick', '4242', 'alice')`.execute(handle.db);
  // Live 10:00–10:59 at 120 viewers: 60 probes → 120 viewer hours at a 1-minute cadence.
  await sql`
    INSERT INTO probes (ts, channel_id, is_live, viewer_count, stream_started_at)
    SELECT ${`${DAY}T10:00:00Z`}::timestamptz + make_interval(mins => g), 1, true, 120, ${`${DAY}T09:59:00Z`}::timestamptz
    FROM generate_series(0, 59) g`.execute(handle.db);
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
  await Promise.all(connections.map((c) => c.nc.close().catch(() => undefined)));
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
  await telegram?.close();
});

const runs = async () =>
  (await sql<{ period_key: string; attempt: number; status: string }>`
    SELECT period_key, attempt, status FROM job_runs WHERE name = 'daily-summary' ORDER BY attempt`.execute(handle.db)).rows;

describe('summary service', () => {
  it('runs the day once with two replicas, stores the figures and sends one message', async () => {
    const [a, b] = [await replica('summary-a'), await replica('summary-b')];
    for (let i = 0; i < 4; i++) await Promise.all([a.jobs.tick(), b.jobs.tick()]);
    await waitFor(runs, (r) => r.some((x) => x.status === 'succeeded'), { what: 'the daily summary run' });
    const { rows } = await sql<{ day: string; viewer_hours: string; live_minutes: number; streams: number; peak_viewers: number }>`
      SELECT to_char(day, 'YYYY-MM-DD') AS day, viewer_hours::text, live_minutes, streams, peak_viewers FROM daily_summaries`.execute(handle.db);
    expect(rows).toEqual([{ day: DAY, viewer_hours: '120.0000', live_minutes: 60, streams: 1, peak_viewers: 120 }]);
    expect(await runs()).toEqual([{ period_key: DAY, attempt: 1, status: 'succeeded' }]);
    await waitFor(() => telegram.messages.length, (n) => n === 1, { what: 'the Telegram message' });
    expect(telegram.messages[0]!.text).toContain(`Daily summary ${DAY}`);
    const jobs = await a.server.app.inject({ url: '/v1/jobs?name=daily-summary', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(jobs.json().items).toEqual([
      expect.objectContaining({ name: 'daily-summary', periodKey: DAY, attempt: 1, status: 'succeeded', durationMs: expect.any(Number) }),
    ]);
  });

  it('a day run again after its success (both replicas consuming) does not send a second message', async () => {
    // An operator rerun, or a redelivery whose success record was lost: job_runs no longer stops the run,
    // telegram_sends does. A new msgID gets past JetStream's duplicate window.
    await sql`DELETE FROM job_runs WHERE name = 'daily-summary' AND period_key = ${DAY}`.execute(handle.db);
    const request = { name: 'daily-summary', periodKey: DAY, scheduledFor: `${DAY}T00:05:00.000Z` };
    await publishStored(connections[0]!, env.topology.jobs.subject('daily-summary'), JSON.stringify(request), `daily-summary:${DAY}:rerun`);
    await waitFor(runs, (r) => r.some((x) => x.status === 'succeeded'), { what: 'the rerun' });
    expect(telegram.messages.filter((m) => m.text.includes(`Daily summary ${DAY}`))).toHaveLength(1);
    const { rows } = await sql<{ state: string; message_ids: string[] }>`
      SELECT state, message_ids FROM telegram_sends WHERE kind = 'daily-summary' AND period_key = ${DAY}`.execute(handle.db);
    expect(rows).toEqual([{ state: 'sent', message_ids: [String(telegram.messages[0]!.messageId)] }]);
  });

  it('retries the day when Telegram is down, and records the success once it is back', async () => {
    clock = Date.parse('2026-11-24T00:05:30Z');
    telegram.failNext(1, 500);
    const [a] = services;
    await a!.jobs.tick();
    await waitFor(
      async () => (await sql<{ attempt: number; status: string }>`
        SELECT attempt, status FROM job_runs WHERE name = 'daily-summary' AND period_key = '2026-11-23' ORDER BY attempt`.execute(handle.db)).rows,
      (r) => r.length === 2 && r[1]!.status === 'succeeded',
      { what: 'a failed attempt then a success', timeoutMs: 30_000 },
    );
    expect(telegram.messages).toHaveLength(2);
  });
});
