import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import type { DailySummary } from '../daily-summary';
import { upsertDailySummaries } from './upsert-daily-summaries';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;

beforeAll(async () => {
  testDb = await createTestDatabase('daily_summary_upsert');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

const row = (over: Partial<DailySummary>): DailySummary => ({
  day: '2026-11-23',
  channelId: 1,
  viewerHours: 97.9333,
  liveMinutes: 160,
  streams: 2,
  peakViewers: 77,
  avgViewers: 36.73,
  chatMessages: 4,
  uniqueChatters: 2,
  gifts: 0,
  giftCoins: 0,
  source: 'postgres',
  ...over,
});

type Text = 'day' | 'channel_id' | 'viewer_hours' | 'live_minutes' | 'streams' | 'peak_viewers' | 'avg_viewers' | 'chat_messages' | 'unique_chatters' | 'source';

/** The table with figures as text, so numerics are compared digit for digit. */
const stored = async () =>
  (
    await sql<Record<Text, string> & { computed_at: Date }>`
      SELECT day::text, channel_id::text, viewer_hours::text, live_minutes::text, streams::text, peak_viewers::text,
             avg_viewers::text, chat_messages::text, unique_chatters::text, source, computed_at
      FROM daily_summaries ORDER BY day, channel_id`.execute(handle.db)
  ).rows;

describe('upsertDailySummaries', () => {
  it('stores the figures exactly, one row per (day, channel)', async () => {
    expect(await upsertDailySummaries(handle.db, [row({}), row({ channelId: 2, viewerHours: 0, avgViewers: 0 }), row({ day: '2026-11-24' })])).toBe(3);
    const rows = await stored();
    expect(rows.map(({ computed_at: _, ...r }) => r)).toEqual([
      { day: '2026-11-23', channel_id: '1', viewer_hours: '97.9333', live_minutes: '160', streams: '2', peak_viewers: '77', avg_viewers: '36.73', chat_messages: '4', unique_chatters: '2', source: 'postgres' },
      { day: '2026-11-23', channel_id: '2', viewer_hours: '0.0000', live_minutes: '160', streams: '2', peak_viewers: '77', avg_viewers: '0.00', chat_messages: '4', unique_chatters: '2', source: 'postgres' },
      { day: '2026-11-24', channel_id: '1', viewer_hours: '97.9333', live_minutes: '160', streams: '2', peak_viewers: '77', avg_viewers: '36.73', chat_messages: '4', unique_chatters: '2', source: 'postgres' },
    ]);
  });

  it('run again, updates in place: same rows, new values, new computed_at; rows it does not name stay', async () => {
    const before = await stored();
    const again = [row({ viewerHours: 100.5, liveMinutes: 170, peakViewers: 90, avgViewers: 35.47, chatMessages: 9, uniqueChatters: 5, source: 'clickhouse' }), row({ channelId: 2, viewerHours: 0, avgViewers: 0 })];
    expect(await upsertDailySummaries(handle.db, again)).toBe(2);
    expect(await upsertDailySummaries(handle.db, again)).toBe(2);
    const after = await stored();
    expect(after).toHaveLength(3);
    expect(after[0]).toMatchObject({ channel_id: '1', viewer_hours: '100.5000', live_minutes: '170', peak_viewers: '90', avg_viewers: '35.47', chat_messages: '9', unique_chatters: '5', source: 'clickhouse' });
    expect(after[0]!.computed_at.getTime()).toBeGreaterThan(before[0]!.computed_at.getTime());
    expect(after[1]).toMatchObject({ channel_id: '2', viewer_hours: '0.0000' });
    expect(after[2]).toEqual(before[2]);
  });

  it('writes nothing for no rows', async () => {
    expect(await upsertDailySummaries(handle.db, [])).toBe(0);
  });
});
