import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { buildApp, type SummaryService } from '../app';

/**
 * What the console reads besides the streamer list: a streamer's viewers per probe minute, its webhook
 * subscription health, and the summaries and job runs it pages through. Real Postgres, fixed clock.
 */
const TOKEN = 'console-reads-spec-admin-token-0123456789';
/** The service's clock: "today" is 2026-11-23 (UTC). */
const NOW = new Date('2026-11-23T15:00:00Z');
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let service: SummaryService;
let operatorToken: string;

const get = (url: string, token: string = TOKEN) => service.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  env = await createTestTopology('summary-console-reads');
  testDb = await createTestDatabase('summary_console_reads');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, NOW);
  service = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('summary'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    retentionDays: 90,
    worker: 'console-reads',
    adminToken: TOKEN,
    now: () => NOW,
  });
  await service.server.app.ready();
  const created = await service.server.app.inject({
    method: 'POST',
    url: '/v1/operators',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { name: 'olga', role: 'operator' },
  });
  expect(created.statusCode).toBe(201);
  operatorToken = created.json().token;
  const operatorId = created.json().id as number;
  // Streamer 1 (Olga's): Kick channels 1 and 2. Streamer 2 (nobody's): Kick channel 3 and first-party
  // channel 4. Streamer 3: no channels.
  await sql`
    INSERT INTO streamers (id, display_name, assigned_operator_id)
    VALUES (1, 'Alice', ${operatorId}), (2, 'Bob', NULL), (3, 'Carol', NULL)`.execute(handle.db);
  await sql`
    INSERT INTO streamer_channels (id, streamer_id, platform, platform_user_id, slug)
    VALUES (1, 1, 'kick', '101', 'alice'), (2, 1, 'kick', '102', 'alice-2'), (3, 2, 'kick', '103', 'bob'), (4, 2, 'onair', 'u-4', 'bob-onair')`.execute(handle.db);
});
afterAll(async () => {
  await service?.server.app.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

describe('GET /v1/streamers/:id/viewers', () => {
  beforeAll(async () => {
    await sql`
      INSERT INTO probes (ts, channel_id, is_live, viewer_count) VALUES
        -- the edges of 2026-11-22: the minute before and the first minute after are other days
        ('2026-11-21T23:59:00Z', 1, true, 99),
        ('2026-11-22T00:00:00Z', 1, false, 0),
        ('2026-11-22T10:00:00Z', 1, true, 100),
        ('2026-11-22T10:02:00Z', 1, true, 120),
        ('2026-11-22T10:01:00Z', 1, true, 110),
        ('2026-11-22T23:59:00Z', 1, false, 0),
        ('2026-11-23T00:00:00Z', 1, true, 7),
        ('2026-11-22T12:00:00Z', 3, true, 5),
        ('2026-11-23T14:00:00Z', 2, true, 42)`.execute(handle.db);
  });

  it("answers one point per probe minute of the day for each channel, oldest first, viewers null while offline", async () => {
    const res = await get('/v1/streamers/1/viewers?day=2026-11-22');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      day: '2026-11-22',
      series: [
        {
          channelId: 1,
          platform: 'kick',
          slug: 'alice',
          points: [
            { at: '2026-11-22T00:00:00.000Z', viewers: null, live: false },
            { at: '2026-11-22T10:00:00.000Z', viewers: 100, live: true },
            { at: '2026-11-22T10:01:00.000Z', viewers: 110, live: true },
            { at: '2026-11-22T10:02:00.000Z', viewers: 120, live: true },
            { at: '2026-11-22T23:59:00.000Z', viewers: null, live: false },
          ],
        },
        { channelId: 2, platform: 'kick', slug: 'alice-2', points: [] },
      ],
    });
  });

  it("defaults to the service's today (UTC) from its clock", async () => {
    const res = (await get('/v1/streamers/1/viewers')).json();
    expect(res.day).toBe('2026-11-23');
    expect(res.series.map((s: { points: unknown[] }) => s.points)).toEqual([
      [{ at: '2026-11-23T00:00:00.000Z', viewers: 7, live: true }],
      [{ at: '2026-11-23T14:00:00.000Z', viewers: 42, live: true }],
    ]);
  });

  it('answers a streamer without channels with no series, and 404 for an unknown one', async () => {
    expect((await get('/v1/streamers/3/viewers?day=2026-11-22')).json()).toEqual({ day: '2026-11-22', series: [] });
    const missing = await get('/v1/streamers/999/viewers');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it("shows an operator their streamers only: another's is 404, as if absent", async () => {
    expect((await get('/v1/streamers/1/viewers?day=2026-11-22', operatorToken)).json().series).toHaveLength(2);
    const theirs = await get('/v1/streamers/2/viewers?day=2026-11-22', operatorToken);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toEqual({ error: { code: 'not_found', message: 'No streamer 2' } });
    expect((await get('/v1/streamers/2/viewers?day=2026-11-22')).json().series[0].points).toEqual([{ at: '2026-11-22T12:00:00.000Z', viewers: 5, live: true }]);
  });

  it.each(['day=2026-02-30', 'day=today', 'day=2026-1-01', 'day=', 'days=2026-11-22'])('answers ?%s with 400 invalid_query', async (query) => {
    const res = await get(`/v1/streamers/1/viewers?${query}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('invalid_query');
  });
});

describe('GET /v1/streamers/:id/subscriptions', () => {
  beforeAll(async () => {
    await sql`
      INSERT INTO kick_subscription_state (channel_id, wanted, present, checked_at, silent_since, resubscribed_at, resubscribe_count) VALUES
        (1, 9, 9, '2026-11-23T14:17:00Z', NULL, NULL, 0),
        (2, 9, 9, '2026-11-23T14:17:00Z', '2026-11-23T14:40:00Z', '2026-11-23T14:45:00Z', 2),
        (3, 9, 7, '2026-11-23T14:17:00Z', NULL, NULL, 0)`.execute(handle.db);
    // Twelve drifts of channel 1, one a minute; the answer keeps the ten newest.
    await sql`
      INSERT INTO kick_subscription_drift (channel_id, at, source, missing, strays, created, deleted)
      SELECT 1, timestamptz '2026-11-23T13:00:00Z' + make_interval(mins => g), 'reconcile', ARRAY['chat.message.sent'], '{}', 1, 0
      FROM generate_series(1, 12) g`.execute(handle.db);
    await sql`
      INSERT INTO kick_subscription_drift (channel_id, at, source, missing, strays, created, deleted)
      VALUES (2, '2026-11-23T14:45:00Z', 'watchdog', '{}', ARRAY['sub-1', 'sub-2'], 9, 9)`.execute(handle.db);
  });

  it("gives each Kick channel's state, health and newest drift (at most 10, newest first)", async () => {
    const res = await get('/v1/streamers/1/subscriptions');
    expect(res.statusCode, res.body).toBe(200);
    const [first, second] = res.json().channels;
    expect(first).toEqual({
      channelId: 1,
      platform: 'kick',
      slug: 'alice',
      wanted: 9,
      present: 9,
      checkedAt: '2026-11-23T14:17:00.000Z',
      silentSince: null,
      resubscribedAt: null,
      resubscribeCount: 0,
      healthy: true,
      drift: expect.any(Array),
    });
    expect(first.drift).toHaveLength(10);
    expect(first.drift[0]).toEqual({ at: '2026-11-23T13:12:00.000Z', source: 'reconcile', missing: ['chat.message.sent'], strays: [], created: 1, deleted: 0 });
    expect(first.drift.map((d: { at: string }) => d.at)).toEqual(
      Array.from({ length: 10 }, (_, i) => `2026-11-23T13:${String(12 - i).padStart(2, '0')}:00.000Z`),
    );
    // All present but silent: not healthy.
    expect(second).toMatchObject({
      channelId: 2,
      silentSince: '2026-11-23T14:40:00.000Z',
      resubscribedAt: '2026-11-23T14:45:00.000Z',
      resubscribeCount: 2,
      healthy: false,
      drift: [{ at: '2026-11-23T14:45:00.000Z', source: 'watchdog', missing: [], strays: ['sub-1', 'sub-2'], created: 9, deleted: 9 }],
    });
  });

  it('calls missing subscriptions unhealthy and leaves first-party channels out (they have none)', async () => {
    const { channels } = (await get('/v1/streamers/2/subscriptions')).json();
    expect(channels).toEqual([expect.objectContaining({ channelId: 3, wanted: 9, present: 7, healthy: false, drift: [] })]);
  });

  it('answers a Kick channel never checked with nulls, not healthy', async () => {
    await sql`INSERT INTO streamer_channels (id, streamer_id, platform, platform_user_id, slug) VALUES (5, 3, 'kick', '105', 'carol')`.execute(handle.db);
    try {
      expect((await get('/v1/streamers/3/subscriptions')).json()).toEqual({
        channels: [
          {
            channelId: 5,
            platform: 'kick',
            slug: 'carol',
            wanted: null,
            present: null,
            checkedAt: null,
            silentSince: null,
            resubscribedAt: null,
            resubscribeCount: 0,
            healthy: false,
            drift: [],
          },
        ],
      });
    } finally {
      await sql`DELETE FROM streamer_channels WHERE id = 5`.execute(handle.db);
    }
    expect((await get('/v1/streamers/3/subscriptions')).json()).toEqual({ channels: [] });
  });

  it("keeps an operator to their streamers, and 404s an unknown one", async () => {
    expect((await get('/v1/streamers/1/subscriptions', operatorToken)).json().channels).toHaveLength(2);
    for (const url of ['/v1/streamers/2/subscriptions', '/v1/streamers/999/subscriptions']) {
      const res = await get(url, operatorToken);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await get('/v1/streamers/abc/subscriptions')).statusCode).toBe(400);
  });
});

describe('GET /v1/summaries pages', () => {
  /** Twenty days × channels 1-3, with equal viewer hours on some days so the tie-break is exercised. */
  beforeAll(async () => {
    await sql`
      INSERT INTO daily_summaries (day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers,
                                   chat_messages, unique_chatters, gifts, gift_coins, computed_at, source)
      SELECT date '2026-11-01' + d, c, CASE WHEN d % 2 = 0 THEN 10 ELSE c * 1.5 END, 60, 1, 20, 10, 7, 3, c + d, (c + d) * 100,
             timestamptz '2026-11-23T00:05:00Z', 'postgres'
      FROM generate_series(0, 19) d, generate_series(1, 3) c`.execute(handle.db);
  });

  const all = async (query: string, limit: number, token = TOKEN) => {
    const items: Array<{ day: string; channelId: number }> = [];
    let offset: number | null = 0;
    let pages = 0;
    while (offset !== null) {
      const res = await get(`/v1/summaries?${query}&limit=${limit}&offset=${offset}`, token);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page).toMatchObject({ limit, offset });
      items.push(...page.items);
      offset = page.nextOffset;
      pages += 1;
    }
    return { items, pages };
  };

  it('pages through every row once, in order, with nextOffset null on the last page', async () => {
    const whole = (await get('/v1/summaries?limit=1000')).json();
    expect(whole.items).toHaveLength(60);
    expect(whole.nextOffset).toBeNull();
    const { items, pages } = await all('streamerId=1', 7);
    expect(pages).toBe(6);
    const keys = items.map((i) => `${i.day}/${i.channelId}`);
    expect(new Set(keys).size).toBe(40);
    expect(keys).toEqual(whole.items.filter((i: { streamerId: number }) => i.streamerId === 1).map((i: { day: string; channelId: number }) => `${i.day}/${i.channelId}`));
    // Exactly one full page left: the page is full and the next is null, not an empty page.
    const exact = (await get('/v1/summaries?limit=20&offset=40')).json();
    expect(exact.items).toHaveLength(20);
    expect(exact.nextOffset).toBeNull();
    expect((await get('/v1/summaries?limit=20&offset=20')).json().nextOffset).toBe(40);
    expect((await get('/v1/summaries?offset=60')).json()).toEqual({ items: [], limit: 100, offset: 60, nextOffset: null });
  });

  it('carries gifts and coins', async () => {
    const { items } = (await get('/v1/summaries?day=2026-11-05&streamerId=2')).json();
    expect(items).toEqual([
      {
        day: '2026-11-05',
        channelId: 3,
        streamerId: 2,
        platform: 'kick',
        slug: 'bob',
        viewerHours: 10,
        liveMinutes: 60,
        streams: 1,
        peakViewers: 20,
        avgViewers: 10,
        chatMessages: 7,
        uniqueChatters: 3,
        gifts: 7,
        giftCoins: 700,
        source: 'postgres',
        computedAt: '2026-11-23T00:05:00.000Z',
      },
    ]);
  });

  it('filters a range of days, both ends included, and keeps day working', async () => {
    const range = (await get('/v1/summaries?from=2026-11-05&to=2026-11-06')).json().items;
    expect(range.map((i: { day: string }) => i.day)).toEqual(['2026-11-06', '2026-11-06', '2026-11-06', '2026-11-05', '2026-11-05', '2026-11-05']);
    expect((await get('/v1/summaries?from=2026-11-19')).json().items.map((i: { day: string }) => i.day)).toEqual([
      ...Array<string>(3).fill('2026-11-20'),
      ...Array<string>(3).fill('2026-11-19'),
    ]);
    expect((await get('/v1/summaries?to=2026-11-01')).json().items).toHaveLength(3);
    expect((await get('/v1/summaries?day=2026-11-07')).json().items).toHaveLength(3);
    expect((await get('/v1/summaries?day=2026-11-07&from=2026-11-08')).json().items).toEqual([]);
  });

  it("shows an operator only their streamers' summaries", async () => {
    const { items } = await all('from=2026-11-01&to=2026-11-30', 9, operatorToken);
    expect(items).toHaveLength(40);
    expect(new Set(items.map((i) => i.channelId))).toEqual(new Set([1, 2]));
  });

  it.each([
    'from=2026-02-30',
    'to=2026-13-01',
    'from=2026-11-06&to=2026-11-05',
    'day=2026-02-29',
    'offset=-1',
    'offset=1.5',
    'offset=1000001',
    'limit=0',
    'limit=1001',
    'from=yesterday',
  ])('answers ?%s with 400 invalid_query', async (query) => {
    const res = await get(`/v1/summaries?${query}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('invalid_query');
  });
});

describe('GET /v1/jobs pages', () => {
  beforeAll(async () => {
    // 23 attempts: pairs started in the same microsecond, and runs a microsecond apart (one millisecond
    // holds several), so the cursor must keep microseconds and break ties on the id.
    await sql`
      INSERT INTO job_runs (name, period_key, attempt, status, worker, started_at, finished_at, error)
      SELECT CASE WHEN g % 3 = 0 THEN 'retention' ELSE 'daily-summary' END, 'p' || g, 1,
             CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'succeeded' END, 'w',
             timestamptz '2026-11-23T00:05:00Z' + make_interval(secs => (g / 4) * 0.000001) + make_interval(mins => g / 8),
             timestamptz '2026-11-23T00:06:00Z',
             CASE WHEN g % 5 = 0 THEN 'Telegram said no' END
      FROM generate_series(1, 23) g`.execute(handle.db);
  });

  const walk = async (query: string, limit: number) => {
    const ids: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/jobs?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor']);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((i: { id: number }) => i.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return ids;
  };

  it('walks every run once, newest first, by cursor', async () => {
    const { rows } = await sql<{ id: string }>`SELECT id FROM job_runs ORDER BY started_at DESC, id DESC`.execute(handle.db);
    const expected = rows.map((r) => Number(r.id));
    expect(expected).toHaveLength(23);
    for (const limit of [1, 4, 23, 500]) expect(await walk('', limit)).toEqual(expected);
    const last = (await get('/v1/jobs?limit=23')).json();
    expect(last.nextCursor).toBeNull();
  });

  it('pages within a filter, and failed runs carry their error', async () => {
    const failed = await walk('&status=failed&name=daily-summary', 1);
    // g = 5, 10, 20 (15 is a retention run).
    expect(failed).toEqual([20, 10, 5]);
    const { items } = (await get('/v1/jobs?status=failed&limit=1')).json();
    expect(items[0]).toMatchObject({ status: 'failed', error: 'Telegram said no', durationMs: expect.any(Number) });
  });

  it('a run started after the first page does not shift the next one', async () => {
    const first = (await get('/v1/jobs?limit=5')).json();
    await sql`
      INSERT INTO job_runs (name, period_key, attempt, status, worker, started_at)
      VALUES ('daily-summary', 'late', 1, 'running', 'w', '2026-11-23T09:00:00Z')`.execute(handle.db);
    const second = (await get(`/v1/jobs?limit=5&cursor=${first.nextCursor}`)).json();
    const { rows } = await sql<{ id: string }>`SELECT id FROM job_runs WHERE period_key <> 'late' ORDER BY started_at DESC, id DESC LIMIT 5 OFFSET 5`.execute(handle.db);
    expect(second.items.map((i: { id: number }) => i.id)).toEqual(rows.map((r) => Number(r.id)));
  });

  it.each([
    ['not base64 at all!', 'cursor=not%20base64'],
    ['a made-up position', `cursor=${Buffer.from('2026-02-30T00:00:00.000000Z 5').toString('base64url')}`],
    ['an id out of range', `cursor=${Buffer.from('2026-11-23T00:00:00.000000Z 99999999999999999').toString('base64url')}`],
    ['garbage text', `cursor=${Buffer.from('hello').toString('base64url')}`],
  ])('refuses %s as a cursor with 400', async (_what, query) => {
    const res = await get(`/v1/jobs?${query}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('invalid_query');
  });

  it('reads a page as a range of job_runs_started, with no sort', async () => {
    const plan = await handle.db.connection().execute(async (conn) => {
      // The table is tiny here, so a scan would win on cost; what matters is that the index can serve it.
      await sql`SET enable_seqscan = off`.execute(conn);
      try {
        const { rows } = await sql<{ 'QUERY PLAN': string }>`
          EXPLAIN SELECT id FROM job_runs WHERE (started_at, id) < (timestamptz '2026-11-23T00:06:00Z', 10)
          ORDER BY started_at DESC, id DESC LIMIT 5`.execute(conn);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      } finally {
        await sql`RESET enable_seqscan`.execute(conn);
      }
    });
    expect(plan).toContain('job_runs_started');
    expect(plan).not.toMatch(/\bSort\b/);
  });

  it('is for admins only', async () => {
    expect((await get('/v1/jobs', operatorToken)).statusCode).toBe(403);
  });
});
