import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, type Db } from '../connect';
import { migrateToLatest } from '../migrate';
import { createTestDatabase } from '../testing';
import * as lastActivity from './0016-last-activity';

// Every time here is fixed; the partitions follow from this instant, never from the wall clock.
const NOW = new Date('2026-11-23T00:00:00Z');
let handle: Db;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  testDb = await createTestDatabase('last_activity_migration');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, NOW);
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

describe('migration 0016 (last activity)', () => {
  it('backfills each streamer from the newest of live, chat, webhook rows and audit entries', async () => {
    // The column is rebuilt over rows written without it: down, seed what the sources left, up again.
    await lastActivity.down(handle.db);
    await sql`
      INSERT INTO streamers (id, display_name, last_live_at) VALUES
        (1, 'live newest', '2026-11-22T10:00:00Z'),
        (2, 'chat newest', '2026-11-22T10:00:00Z'),
        (3, 'webhook newest', NULL),
        (4, 'operator newest', '2026-11-22T10:00:00Z'),
        (5, 'nothing', NULL)`.execute(handle.db);
    await sql`
      INSERT INTO streamer_channels (id, streamer_id, platform, platform_user_id, slug) VALUES
        (11, 1, 'kick', '101', 'one'), (21, 2, 'kick', '201', 'two'), (22, 2, 'onair', 'room-2', 'two-room'),
        (31, 3, 'kick', '301', 'three'), (41, 4, 'kick', '401', 'four'), (51, 5, 'kick', '501', 'five')`.execute(handle.db);
    await sql`
      INSERT INTO chat_messages (platform, message_id, channel_id, sender_id, sender_username, content, sent_at, received_at) VALUES
        ('kick', 'a', '101', 'u', 'u', 'x', '2026-11-22T09:00:00Z', '2026-11-22T09:00:00Z'),
        ('kick', 'b', '201', 'u', 'u', 'x', '2026-11-22T10:30:00Z', '2026-11-22T10:30:00Z'),
        ('onair', 'c', 'room-2', 'u', 'u', 'x', '2026-11-22T11:00:00Z', '2026-11-22T11:00:00Z'),
        ('kick', 'd', '999', 'u', 'u', 'x', '2026-11-22T23:00:00Z', '2026-11-22T23:00:00Z')`.execute(handle.db);
    await sql`
      INSERT INTO live_streams (platform, channel_id, started_at, ended_at, source) VALUES
        ('kick', '301', '2026-11-22T08:00:00Z', '2026-11-22T12:00:00Z', 'kick-webhook'),
        ('kick', '101', '2026-11-22T08:00:00Z', '2026-11-22T23:00:00Z', 'probe')`.execute(handle.db);
    await sql`
      INSERT INTO audit_log (at, actor, action, target_type, target_id) VALUES
        ('2026-11-22T13:00:00Z', 'admin', 'streamer.update', 'streamer', '4'),
        ('2026-11-22T09:00:00Z', 'admin', 'streamer.create', 'streamer', '4'),
        ('2026-11-22T23:00:00Z', 'admin', 'operator.create', 'operator', '1')`.execute(handle.db);
    await lastActivity.up(handle.db);

    const { rows } = await sql<{ id: string; last_activity_at: Date | null; last_activity_kind: string | null }>`
      SELECT id, last_activity_at, last_activity_kind FROM streamers ORDER BY id`.execute(handle.db);
    expect(rows.map((r) => [Number(r.id), r.last_activity_at?.toISOString() ?? null, r.last_activity_kind])).toEqual([
      [1, '2026-11-22T10:00:00.000Z', 'live'],
      [2, '2026-11-22T11:00:00.000Z', 'chat'],
      [3, '2026-11-22T12:00:00.000Z', 'webhook'],
      [4, '2026-11-22T13:00:00.000Z', 'operator'],
      [5, null, null],
    ]);
    // The list's order is served by the index, never-active last.
    // (Five rows would be sorted in memory; the planner is told to prefer the index, as with 10,000.)
    const plan = await handle.db.transaction().execute(async (tx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(tx);
      return (await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT id FROM streamers ORDER BY last_activity_at DESC NULLS LAST, id LIMIT 20`.execute(tx)).rows;
    });
    expect(plan.map((p) => p['QUERY PLAN']).join('\n')).toMatch(/streamers_last_activity/);
  });

  it('migrates again without harm (replicas start together)', async () => {
    await expect(migrateToLatest(handle.db, NOW)).resolves.toEqual([]);
  });
});
