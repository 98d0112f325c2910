import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { buildApp, type SummaryService } from '../app';

const TOKEN = 'read-api-spec-admin-token-0123456789';
/** The service's clock: "today" is 2026-11-23 (UTC). */
const NOW = new Date('2026-11-23T15:00:00Z');
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let service: SummaryService;

beforeAll(async () => {
  env = await createTestTopology('summary-read-api');
  testDb = await createTestDatabase('summary_read_api');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
  // 45 streamers: "Streamer 01" … "Streamer 45", one Kick channel each; every third was live recently.
  await sql`
    INSERT INTO streamers (display_name, status) SELECT 'Streamer ' || lpad(g::text, 2, '0'), 'active' FROM generate_series(1, 45) g`.execute(handle.db);
  await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) SELECT id, 'kick', (9000 + id)::text, 'chan' || id FROM streamers`.execute(handle.db);
  await sql`
    INSERT INTO probe_schedule (channel_id, next_probe_at, last_probed_at, last_is_live)
    SELECT id, now(), timestamptz '2026-11-23T12:00:00Z' + make_interval(mins => id::int), id % 3 = 0 FROM streamer_channels`.execute(handle.db);
  // What the prober records when it sees a channel live (its last activity too, migration 0016) …
  await sql`
    UPDATE streamers SET last_live_at = timestamptz '2026-11-23T12:00:00Z' + make_interval(mins => id::int),
                         last_activity_at = timestamptz '2026-11-23T12:00:00Z' + make_interval(mins => id::int), last_activity_kind = 'live'
    WHERE id % 3 = 0`.execute(handle.db);
  // … and, newer than any sighting, chat in streamer 10's channel (chat-writer) and an operator's write about streamer 3.
  await sql`UPDATE streamers SET last_activity_at = '2026-11-23T12:50:00Z', last_activity_kind = 'chat' WHERE id = 10`.execute(handle.db);
  await sql`UPDATE streamers SET last_activity_at = '2026-11-23T13:00:00Z', last_activity_kind = 'operator' WHERE id = 3`.execute(handle.db);
  service = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('summary'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    retentionDays: 90,
    worker: 'read-api',
    adminToken: TOKEN,
    now: () => NOW,
  });
  await service.server.app.ready();
});
afterAll(async () => {
  await service?.server.app.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

const get = (url: string, token: string | null = TOKEN) =>
  service.server.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('read API', () => {
  it('refuses requests without the admin token', async () => {
    for (const token of [null, 'wrong-token', `${TOKEN}x`]) {
      const res = await get('/v1/streamers', token);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
    expect((await get('/v1/jobs', null)).statusCode).toBe(401);
  });

  it('pages through every streamer exactly once, with the total, at the edges', async () => {
    const seen: number[] = [];
    for (let offset = 0; offset < 50; offset += 20) {
      const page = (await get(`/v1/streamers?limit=20&offset=${offset}&sort=name`)).json();
      expect(page.total).toBe(45);
      seen.push(...page.items.map((i: { id: number }) => i.id));
    }
    expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    const past = (await get('/v1/streamers?limit=20&offset=45')).json();
    expect(past).toEqual({ total: 45, limit: 20, offset: 45, items: [] });
    const last = (await get('/v1/streamers?limit=1&offset=44&sort=name')).json();
    expect(last.items.map((i: { displayName: string }) => i.displayName)).toEqual(['Streamer 45']);
  });

  it('searches names and slugs, case-insensitively, treating % and _ literally', async () => {
    expect((await get('/v1/streamers?q=streamer%200')).json().total).toBe(9);
    expect((await get('/v1/streamers?q=CHAN45')).json().items.map((i: { id: number }) => i.id)).toEqual([45]);
    expect((await get('/v1/streamers?q=%25')).json().total).toBe(0);
    expect((await get('/v1/streamers?q=_')).json().total).toBe(0);
  });

  it('sorts by last activity (live, chat, webhook or operator, the newest), most recent first, never-active last', async () => {
    const page = (await get('/v1/streamers?limit=4')).json();
    expect(page.items.map((i: { id: number }) => i.id)).toEqual([3, 10, 45, 42]);
    expect(page.items.map((i: { lastActivity: unknown }) => i.lastActivity)).toEqual([
      { at: '2026-11-23T13:00:00.000Z', kind: 'operator' },
      { at: '2026-11-23T12:50:00.000Z', kind: 'chat' },
      { at: '2026-11-23T12:45:00.000Z', kind: 'live' },
      { at: '2026-11-23T12:42:00.000Z', kind: 'live' },
    ]);
    expect(page.items[2].lastActivityAt).toBe('2026-11-23T12:45:00.000Z');
    const tail = (await get('/v1/streamers?limit=1&offset=44')).json();
    expect(tail.items[0].lastActivityAt).toBeNull();
  });

  it.each([
    ['/v1/streamers?limit=0', 'invalid_query'],
    ['/v1/streamers?limit=101', 'invalid_query'],
    ['/v1/streamers?offset=-1', 'invalid_query'],
    ['/v1/streamers?sort=random', 'invalid_query'],
    ['/v1/streamers?limit=abc', 'invalid_query'],
    ['/v1/streamers?bogus=1', 'invalid_query'],
    ['/v1/summaries?day=yesterday', 'invalid_query'],
    ['/v1/summaries?day=2026-13-45', 'invalid_query'],
    ['/v1/jobs?status=exploded', 'invalid_query'],
    ['/v1/streamers/abc', 'invalid_params'],
    // Numbers past what a bigint id or a JavaScript number holds exactly.
    ['/v1/streamers/1e20', 'invalid_params'],
    ['/v1/streamers/9007199254740992', 'invalid_params'],
    ['/v1/streamers/99999999999999999999999', 'invalid_params'],
    ['/v1/streamers/0', 'invalid_params'],
    ['/v1/streamers/-1', 'invalid_params'],
    ['/v1/streamers/1.5', 'invalid_params'],
    ['/v1/summaries?streamerId=1e20', 'invalid_query'],
    ['/v1/summaries?limit=1e20', 'invalid_query'],
    ['/v1/streamers?offset=1e20', 'invalid_query'],
    ['/v1/streamers?limit=Infinity', 'invalid_query'],
    ['/v1/jobs?limit=NaN', 'invalid_query'],
    // Days that do not exist: each is refused by round trip, not handed to Postgres.
    ['/v1/summaries?day=2026-02-30', 'invalid_query'],
    ['/v1/summaries?day=2026-02-29', 'invalid_query'],
    ['/v1/summaries?day=2026-04-31', 'invalid_query'],
    ['/v1/summaries?day=0000-00-00', 'invalid_query'],
    ['/v1/summaries?day=2026-1-01', 'invalid_query'],
    // Text Postgres would refuse (NUL) or that cannot match anything (control characters).
    ['/v1/streamers?q=a%00b', 'invalid_query'],
    ['/v1/streamers?q=%1b%5b2J', 'invalid_query'],
    ['/v1/jobs?name=daily%00', 'invalid_query'],
    [`/v1/streamers?q=${'x'.repeat(101)}`, 'invalid_query'],
  ])('answers %s with 400 %s', async (url, code) => {
    const res = await get(url);
    expect(res.statusCode, res.body).toBe(400);
    expect(Object.keys(res.json())).toEqual(['error']);
    expect(res.json().error.code).toBe(code);
  });

  it('accepts the largest id it can represent (and finds nothing there)', async () => {
    expect((await get(`/v1/streamers/${Number.MAX_SAFE_INTEGER}`)).statusCode).toBe(404);
    expect((await get(`/v1/summaries?streamerId=${Number.MAX_SAFE_INTEGER}&day=2028-02-29`)).json()).toEqual({ items: [], limit: 100, offset: 0, nextOffset: null });
  });

  it('checks the token before anything else, and answers unknown routes without echoing them', async () => {
    const res = await get('/v1/streamers/1e20', null);
    expect(res.statusCode).toBe(401);
    const missing = await get('/v1/<b>nothing</b>');
    expect(missing.statusCode).toBe(404);
    expect(missing.body).not.toContain('nothing');
  });

  it('shows one streamer with its channels, and 404 for an unknown one', async () => {
    const res = (await get('/v1/streamers/3')).json();
    expect(res).toMatchObject({ id: 3, displayName: 'Streamer 03', status: 'active', channels: [{ id: 3, platform: 'kick', platformUserId: '9003', slug: 'chan3', live: true, latestProbe: null, lastChatAt: null }] });
    expect(res).toMatchObject({ lastActivityAt: '2026-11-23T13:00:00.000Z', lastActivity: { at: '2026-11-23T13:00:00.000Z', kind: 'operator' } });
    expect((await get('/v1/streamers/1')).json()).toMatchObject({ lastActivityAt: null, lastActivity: null });
    const missing = await get('/v1/streamers/999');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('lists summaries and job runs, and serves its OpenAPI document', async () => {
    await sql`
      INSERT INTO daily_summaries (day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers, chat_messages, unique_chatters, computed_at, source)
      VALUES ('2026-11-22', 3, 12.5, 60, 1, 20, 12.5, 7, 3, now(), 'postgres')`.execute(handle.db);
    await sql`
      INSERT INTO job_runs (name, period_key, attempt, status, worker, started_at, finished_at)
      VALUES ('daily-summary', '2026-11-22', 1, 'succeeded', 'w', '2026-11-23T00:05:00Z', '2026-11-23T00:05:02.5Z')`.execute(handle.db);
    const summaries = (await get('/v1/summaries?day=2026-11-22&streamerId=3')).json();
    expect(summaries.items).toEqual([expect.objectContaining({ day: '2026-11-22', channelId: 3, streamerId: 3, viewerHours: 12.5, chatMessages: 7 })]);
    expect((await get('/v1/summaries?day=2026-11-21')).json().items).toEqual([]);
    const jobs = (await get('/v1/jobs?name=daily-summary&status=succeeded')).json();
    expect(jobs.items).toEqual([expect.objectContaining({ name: 'daily-summary', periodKey: '2026-11-22', durationMs: 2500 })]);
    const doc = (await service.server.app.inject('/openapi.json')).json();
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/audit',
      '/v1/jobs',
      '/v1/operators',
      '/v1/streamers',
      '/v1/streamers/{id}',
      '/v1/streamers/{id}/subscriptions',
      '/v1/streamers/{id}/viewers',
      '/v1/summaries',
      '/v1/summaries/rerun',
    ]);
    const summariesDoc = doc.paths['/v1/summaries'].get;
    expect(summariesDoc.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['day', 'from', 'to', 'offset', 'limit', 'streamerId']));
    expect(Object.keys(summariesDoc.responses['200'].content['application/json'].schema.properties)).toEqual(['items', 'limit', 'offset', 'nextOffset']);
    expect(doc.paths['/v1/jobs'].get.parameters.map((p: { name: string }) => p.name)).toContain('cursor');
  });
});
