import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  connectAnalytics,
  dropAnalyticsDatabase,
  analyticsChatRow,
  insertAnalyticsChatRows,
  insertAnalyticsProbes,
  migrateAnalytics,
  type Analytics,
} from '@onair/analytics';
import { createDb, ensureMonthlyPartition, insertChatMessages, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { computeDailySummariesClickHouse } from './compute-clickhouse';
import { computeDailySummariesPostgres } from './compute-postgres';
import type { DailySummary } from './daily-summary';
import { upsertDailySummaries } from './sql/upsert-daily-summaries';

/**
 * Both paths against a hand-computed fixture, on real Postgres and ClickHouse: three Kick channels probed
 * every minute of 2026-11-23 (3 × 1,440 rows), chat for each, and rows just outside the day.
 */
const CH_URL = process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123';
const CH_DATABASE = 'onair_test_daily_summary';
const DAY = '2026-11-23';
const DAY0 = Date.parse(`${DAY}T00:00:00Z`);
const MINUTE = 60_000;

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let analytics: Analytics;
/** streamer_channels.id of channels A, B and C. */
const ids = { A: 0, B: 0, C: 0 };

interface Probe {
  channel: keyof typeof ids;
  ts: Date;
  isLive: boolean;
  viewerCount: number;
  streamStartedAt: Date | null;
}
interface Chat {
  platform: string;
  channelId: string;
  messageId: string;
  senderId: string;
  sentAt: string;
}

const PLATFORM_ID = { A: '9001', B: '9002', C: '9003' } as const;
const utc = (iso: string) => new Date(`${iso}Z`);
const minuteOfDay = (hh: number, mm: number) => hh * 60 + mm;

/** One probe a minute for the whole day; `live(m)` says what the probe of minute m (0–1439) saw. */
function day(
  channel: keyof typeof ids,
  live: (m: number) => { viewers: number; startedAt: Date | null } | undefined,
  { from = DAY0, every = 1 } = {},
): Probe[] {
  const probes: Probe[] = [];
  for (let m = 0; m < 1_440; m += every) {
    const seen = live(m);
    probes.push({
      channel,
      ts: new Date(from + m * MINUTE),
      isLive: seen !== undefined,
      // An offline probe may carry a stale count; only live probes may count.
      viewerCount: seen?.viewers ?? 3,
      streamStartedAt: seen?.startedAt ?? null,
    });
  }
  return probes;
}

/** The distinct months (as their first instant) of some instants: one partition check each. */
const months = (instants: Date[]) => [...new Set(instants.map((t) => Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1)))].map((ms) => new Date(ms));

async function insertProbes(probes: readonly Probe[]): Promise<void> {
  for (const month of months(probes.map((p) => p.ts))) await ensureMonthlyPartition(handle.db, 'probes', month);
  const col = <T>(pick: (p: Probe) => T) => probes.map(pick);
  await sql`
    INSERT INTO probes (channel_id, ts, is_live, viewer_count, stream_started_at)
    SELECT * FROM unnest(${col((p) => ids[p.channel])}::bigint[], ${col((p) => p.ts)}::timestamptz[],
      ${col((p) => p.isLive)}::boolean[], ${col((p) => p.viewerCount)}::integer[], ${col((p) => p.streamStartedAt)}::timestamptz[])`.execute(
    handle.db,
  );
  const rows = probes.map((p) => ({
    ts: p.ts.toISOString(),
    channel_id: ids[p.channel],
    platform: 'kick',
    platform_user_id: PLATFORM_ID[p.channel],
    is_live: p.isLive,
    viewer_count: p.viewerCount,
    stream_started_at: p.streamStartedAt?.toISOString() ?? null,
    title: null,
    category: null,
  }));
  // Twice, as a redelivery would: FINAL must count each channel-minute once.
  await insertAnalyticsProbes(analytics, rows);
  await insertAnalyticsProbes(analytics, rows);
}

async function insertChat(chat: readonly Chat[]): Promise<void> {
  for (const month of months(chat.map((c) => new Date(c.sentAt)))) await ensureMonthlyPartition(handle.db, 'chat_messages', month);
  const rows = chat.map((c) => ({
    platform: c.platform,
    messageId: c.messageId,
    channelId: c.channelId,
    senderId: c.senderId,
    senderUsername: `user-${c.senderId}`,
    content: 'hi',
    sentAt: c.sentAt,
    receivedAt: c.sentAt,
    repliesTo: null,
  }));
  await insertChatMessages(handle.db, rows);
  const chRows = rows.map(analyticsChatRow);
  await insertAnalyticsChatRows(analytics, chRows);
  await insertAnalyticsChatRows(analytics, chRows);
}

const kick = (channel: keyof typeof ids, messageId: string, senderId: string, sentAt: string): Chat => ({
  platform: 'kick',
  channelId: PLATFORM_ID[channel],
  messageId,
  senderId,
  sentAt,
});

const withoutSource = (rows: DailySummary[]) => rows.map(({ source: _, ...rest }) => rest);

async function bothPaths(day: string): Promise<Omit<DailySummary, 'source'>[]> {
  const fromPostgres = await computeDailySummariesPostgres(handle.db, day);
  const fromClickHouse = await computeDailySummariesClickHouse(analytics, handle.db, day);
  expect(fromPostgres.every((r) => r.source === 'postgres')).toBe(true);
  expect(fromClickHouse.every((r) => r.source === 'clickhouse')).toBe(true);
  expect(withoutSource(fromClickHouse)).toEqual(withoutSource(fromPostgres));
  return withoutSource(fromPostgres);
}

beforeAll(async () => {
  testDb = await createTestDatabase('daily_summary');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, new Date(DAY0));
  await dropAnalyticsDatabase(CH_URL, CH_DATABASE);
  analytics = await connectAnalytics({ url: CH_URL, database: CH_DATABASE });
  await migrateAnalytics(analytics);
  // The fixtures keep their 2026 dates; ClickHouse applies the tables' 12-month TTL by its own (real) clock,
  // dropping such rows as they arrive once that is a year later. This throwaway database keeps them.
  await analytics.client.command({ query: `SYSTEM STOP TTL MERGES ${CH_DATABASE}.chat_messages` });
  await analytics.client.command({ query: `SYSTEM STOP TTL MERGES ${CH_DATABASE}.probes` });

  for (const channel of ['A', 'B', 'C'] as const) {
    const { rows } = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES (${channel}) RETURNING id`.execute(handle.db);
    const inserted = await sql<{ id: number }>`
      INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
      VALUES (${rows[0]!.id}, 'kick', ${PLATFORM_ID[channel]}, ${channel.toLowerCase()}) RETURNING id`.execute(handle.db);
    ids[channel] = Number(inserted.rows[0]!.id);
  }

  await insertProbes([
    // A: live 10:00–11:59, one stream (started 09:58): 100 viewers for the first hour, 200 for the second.
    ...day('A', (m) =>
      m >= minuteOfDay(10, 0) && m < minuteOfDay(12, 0)
        ? { viewers: m < minuteOfDay(11, 0) ? 100 : 200, startedAt: utc(`${DAY}T09:58`) }
        : undefined,
    ),
    // B: live 08:00–09:29 at 33 (stream started 07:59), offline 09:30–09:39, restarted 09:40–10:49 at 41
    // with one minute (10:00) at 77; the restart's first probe has no start time yet (null, not a stream).
    ...day('B', (m) => {
      if (m >= minuteOfDay(8, 0) && m < minuteOfDay(9, 30)) return { viewers: 33, startedAt: utc(`${DAY}T07:59`) };
      if (m >= minuteOfDay(9, 40) && m < minuteOfDay(10, 50)) {
        return { viewers: m === minuteOfDay(10, 0) ? 77 : 41, startedAt: m === minuteOfDay(9, 40) ? null : utc(`${DAY}T09:40`) };
      }
      return undefined;
    }),
    // C: never live.
    ...day('C', () => undefined),
    // A, one minute either side of the day, with a crowd that would show if it leaked in.
    { channel: 'A', ts: utc('2026-11-22T23:59'), isLive: true, viewerCount: 10_000, streamStartedAt: utc('2026-11-22T23:30') },
    { channel: 'A', ts: utc('2026-11-24T00:00'), isLive: true, viewerCount: 10_000, streamStartedAt: utc('2026-11-24T00:00') },
  ]);

  await insertChat([
    // A: s1 three times, s2 and s3 once (the last in the day's final millisecond) → 5 messages, 3 chatters.
    kick('A', 'a1', 's1', `${DAY}T10:05:00.000Z`),
    kick('A', 'a2', 's1', `${DAY}T10:06:00.000Z`),
    kick('A', 'a3', 's1', `${DAY}T11:30:00.000Z`),
    kick('A', 'a4', 's2', `${DAY}T10:10:00.000Z`),
    kick('A', 'a5', 's3', `${DAY}T23:59:59.999Z`),
    // B: s1 (chatters are per channel) and s4, twice each → 4 messages, 2 chatters.
    kick('B', 'b1', 's1', `${DAY}T08:00:00.000Z`),
    kick('B', 'b2', 's1', `${DAY}T09:45:00.000Z`),
    kick('B', 'b3', 's4', `${DAY}T09:00:00.000Z`),
    kick('B', 'b4', 's4', `${DAY}T10:30:00.000Z`),
    // C (offline, still chatting): s5 at the day's first and last millisecond → 2 messages, 1 chatter.
    kick('C', 'c1', 's5', `${DAY}T00:00:00.000Z`),
    kick('C', 'c2', 's5', `${DAY}T23:59:59.999Z`),
    // Outside the day: A's chat one millisecond before and at the next midnight.
    kick('A', 'a-prev', 's9', '2026-11-22T23:59:59.999Z'),
    kick('A', 'a-next', 's9', '2026-11-24T00:00:00.000Z'),
    // Not ours: A's platform id on another platform, and a Kick channel we do not track.
    { platform: 'twitch', channelId: PLATFORM_ID.A, messageId: 't1', senderId: 's1', sentAt: `${DAY}T10:00:00.000Z` },
    { platform: 'kick', channelId: '9999', messageId: 'x1', senderId: 's1', sentAt: `${DAY}T10:00:00.000Z` },
  ]);
});

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
  await analytics?.close();
  await dropAnalyticsDatabase(CH_URL, CH_DATABASE);
});

describe('daily summaries', () => {
  it('match the hand-computed fixture, identically on Postgres and ClickHouse', async () => {
    expect(await bothPaths(DAY)).toEqual([
      {
        day: DAY,
        channelId: ids.A,
        viewerHours: 300, // (60 × 100 + 60 × 200) × 1 min / 60 = 18,000 / 60
        liveMinutes: 120, // 120 live probes × 1 min
        streams: 1, // 09:58
        peakViewers: 200,
        avgViewers: 150, // 18,000 / 120
        chatMessages: 5,
        uniqueChatters: 3, // s1, s2, s3
        gifts: 0,
        giftCoins: 0,
      },
      {
        day: DAY,
        channelId: ids.B,
        viewerHours: 97.9333, // (90 × 33 + 69 × 41 + 77) × 1 / 60 = (2,970 + 2,829 + 77) / 60 = 5,876 / 60 = 97.93333…
        liveMinutes: 160, // (90 + 70) × 1
        streams: 2, // 07:59 and 09:40; the null start at 09:40 is not a stream
        peakViewers: 77,
        avgViewers: 36.73, // 5,876 / 160 = 36.725, half up (ClickHouse's Float64 round() would give 36.72)
        chatMessages: 4,
        uniqueChatters: 2, // s1, s4
        gifts: 0,
        giftCoins: 0,
      },
      {
        day: DAY,
        channelId: ids.C,
        viewerHours: 0,
        liveMinutes: 0,
        streams: 0,
        peakViewers: 0,
        avgViewers: 0,
        chatMessages: 2,
        uniqueChatters: 1, // s5
        gifts: 0,
        giftCoins: 0,
      },
    ]);
  });

  it('keeps to UTC days: 23:59 the day before and 00:00 the day after belong to those days', async () => {
    // Each neighbouring day holds exactly A's one boundary probe and one boundary message.
    const edge = {
      channelId: ids.A,
      viewerHours: 166.6667, // 10,000 × 1 / 60 = 166.66666…
      liveMinutes: 1,
      streams: 1,
      peakViewers: 10_000,
      avgViewers: 10_000,
      chatMessages: 1,
      uniqueChatters: 1,
      gifts: 0,
      giftCoins: 0,
    };
    expect(await bothPaths('2026-11-22')).toEqual([{ day: '2026-11-22', ...edge }]);
    expect(await bothPaths('2026-11-24')).toEqual([{ day: '2026-11-24', ...edge }]);
    expect(await bothPaths('2026-11-26')).toEqual([]);
  });

  it('reads the cadence from settings: probes every 2 minutes each stand for 2 minutes', async () => {
    const day2 = '2026-11-25';
    // A on 2026-11-25, probed every 2 minutes: live 20:00–20:58 (30 probes), 15 probes at 10 then 15 at 21.
    await insertProbes(
      day(
        'A',
        (m) =>
          m >= minuteOfDay(20, 0) && m < minuteOfDay(21, 0)
            ? { viewers: m < minuteOfDay(20, 30) ? 10 : 21, startedAt: utc(`${day2}T19:59`) }
            : undefined,
        { from: Date.parse(`${day2}T00:00:00Z`), every: 2 },
      ),
    );
    await sql`UPDATE settings SET live_probe_minutes = 2`.execute(handle.db);
    try {
      expect(await bothPaths(day2)).toEqual([
        {
          day: day2,
          channelId: ids.A,
          viewerHours: 15.5, // (15 × 10 + 15 × 21) × 2 min / 60 = 465 × 2 / 60 (7.75 if the cadence were taken as 1)
          liveMinutes: 60, // 30 live probes × 2 min
          streams: 1,
          peakViewers: 21,
          avgViewers: 15.5, // 465 / 30
          chatMessages: 0,
          uniqueChatters: 0,
          gifts: 0,
          giftCoins: 0,
        },
      ]);
    } finally {
      await sql`UPDATE settings SET live_probe_minutes = 1`.execute(handle.db);
    }
  });

  it('counts gifts and coins per streamer and day (Kick and first-party, refunds left out), on both paths', async () => {
    const giftDay = '2026-11-27';
    // Streamer D streams first-party in room d-room: its channel is ('onair', 'd-room').
    const streamer = await sql<{ id: number }>`INSERT INTO streamers (display_name) VALUES ('D') RETURNING id`.execute(handle.db);
    const d = Number(
      (await sql<{ id: number }>`
        INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
        VALUES (${streamer.rows[0]!.id}, 'onair', 'd-room', 'd') RETURNING id`.execute(handle.db)).rows[0]!.id,
    );
    const gift = async (platform: string, channelId: string, coins: number, day: string, sentAt: string) =>
      Number(
        (await sql<{ id: string }>`
          INSERT INTO gifts (platform, channel_id, sender_id, sender_name, recipient_id, gift_id, gift_name, quantity, coins, day, sent_at, published_at)
          VALUES (${platform}, ${channelId}, 'fan', 'fan', 'owner', 'star', 'Star', 1, ${coins}, ${day}, ${sentAt}, ${sentAt}) RETURNING id`.execute(handle.db)).rows[0]!.id,
      );
    const refundOf = (giftId: number, status: 'refunded' | 'refused') =>
      sql`INSERT INTO ledger_txns (kind, scope, idempotency_key, outcome) VALUES ('refund', 'refunds', ${`gift:${giftId}`}, ${JSON.stringify({ status })}::jsonb)`.execute(handle.db);
    // A (Kick 9001): two kicks.gifted on the day, at its first and last millisecond; one either side of it.
    await gift('kick', PLATFORM_ID.A, 100, giftDay, `${giftDay}T00:00:00.000Z`);
    await gift('kick', PLATFORM_ID.A, 50, giftDay, `${giftDay}T23:59:59.999Z`);
    await gift('kick', PLATFORM_ID.A, 7_000, '2026-11-26', '2026-11-26T23:59:59.999Z');
    await gift('kick', PLATFORM_ID.A, 7_000, '2026-11-28', '2026-11-28T00:00:00.000Z');
    // D: three first-party gifts; one refunded (does not count), one whose refund was refused (counts).
    await refundOf(await gift('onair', 'd-room', 25, giftDay, `${giftDay}T12:00:00.000Z`), 'refunded');
    await refundOf(await gift('onair', 'd-room', 25, giftDay, `${giftDay}T12:01:00.000Z`), 'refused');
    await gift('onair', 'd-room', 5, giftDay, `${giftDay}T12:02:00.000Z`);
    // Not ours: a room no streamer owns, and A's platform id on first-party.
    await gift('onair', 'nobody-room', 1_000, giftDay, `${giftDay}T12:00:00.000Z`);
    await gift('onair', PLATFORM_ID.A, 1_000, giftDay, `${giftDay}T12:00:00.000Z`);

    const quiet = { viewerHours: 0, liveMinutes: 0, streams: 0, peakViewers: 0, avgViewers: 0, chatMessages: 0, uniqueChatters: 0 };
    const rows = await bothPaths(giftDay);
    expect(rows).toEqual([
      { day: giftDay, channelId: ids.A, ...quiet, gifts: 2, giftCoins: 150 },
      { day: giftDay, channelId: d, ...quiet, gifts: 2, giftCoins: 30 },
    ]);
    // Stored with the day's other figures.
    await upsertDailySummaries(handle.db, await computeDailySummariesPostgres(handle.db, giftDay));
    const stored = await sql<{ channel_id: string; gifts: number; gift_coins: string }>`
      SELECT channel_id::text, gifts, gift_coins::text FROM daily_summaries WHERE day = ${giftDay} ORDER BY channel_id`.execute(handle.db);
    expect(stored.rows).toEqual([
      { channel_id: String(ids.A), gifts: 2, gift_coins: '150' },
      { channel_id: String(d), gifts: 2, gift_coins: '30' },
    ]);
    // Days that hold A's edge gifts only.
    expect((await bothPaths('2026-11-26')).map((r) => [r.channelId, r.gifts, r.giftCoins])).toEqual([[ids.A, 1, 7_000]]);
    expect((await bothPaths('2026-11-28')).map((r) => [r.channelId, r.gifts, r.giftCoins])).toEqual([[ids.A, 1, 7_000]]);
  });

  it('refuses a day that is not YYYY-MM-DD', async () => {
    await expect(computeDailySummariesPostgres(handle.db, '2026-11-31')).rejects.toMatchObject({ code: 'invalid_day' });
    await expect(computeDailySummariesClickHouse(analytics, handle.db, '23.11.2026')).rejects.toMatchObject({ code: 'invalid_day' });
  });
});
