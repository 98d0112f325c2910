import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAnalytics, dropAnalyticsDatabase, type Analytics } from './client';
import { migrateAnalytics } from './migrations';
import { insertAnalyticsChatRows, type AnalyticsChatRow } from './chat-messages';

const url = process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123';
const database = 'onair_test_analytics_spec';
let analytics: Analytics;

beforeAll(async () => {
  await dropAnalyticsDatabase(url, database);
  analytics = await connectAnalytics({ url, database });
});
afterAll(async () => {
  await analytics?.close();
  await dropAnalyticsDatabase(url, database);
});

describe('analytics', () => {
  it('migrates once and again without harm', async () => {
    expect(await migrateAnalytics(analytics)).toEqual(['0001-chat-messages', '0002-probes']);
    expect(await migrateAnalytics(analytics)).toEqual([]);
  });

  it('keeps one row per message however often it is inserted', async () => {
    // The fixtures keep their 2026 dates; ClickHouse applies the tables' 12-month TTL by its own (real) clock,
    // dropping such rows as they arrive once that is a year later. This throwaway database keeps them.
    await analytics.client.command({ query: `SYSTEM STOP TTL MERGES ${database}.chat_messages` });
    const rows: AnalyticsChatRow[] = Array.from({ length: 100 }, (_, i) => ({
      platform: 'kick',
      message_id: `m${i}`,
      channel_id: 'c1',
      sender_id: 's1',
      sender_username: 'alice',
      content: `hi ${i}`,
      sent_at: '2026-11-23T10:00:00.123Z',
      received_at: '2026-11-23T10:00:01Z',
      replies_to: i === 0 ? null : `m${i - 1}`,
    }));
    await insertAnalyticsChatRows(analytics, rows);
    await insertAnalyticsChatRows(analytics, rows.slice(0, 40));
    const result = await analytics.client.query({
      query: `SELECT count() AS n, toString(min(sent_at)) AS first FROM chat_messages FINAL`,
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ n: 100, first: '2026-11-23 10:00:00.123' }]);
  });
});
