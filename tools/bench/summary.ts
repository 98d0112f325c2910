/**
 * `npm run bench:summary` — one run, figures side by side (the machines are noisy; compare ratios):
 *   1. one UTC day's summary for 1,000 channels (1,440,000 probe rows in the day, a realistic mix of
 *      live and offline channels with restarts, plus ~200k chat messages), on the ClickHouse path and
 *      on the Postgres path (warm: a warm-up call, then the median of 3), next to the baseline a cron
 *      job would do — one query per channel against Postgres — and a check that all three agree;
 *   2. `GET /v1/streamers` over 10,000 streamers through the real summary app (`buildApp`, admin token,
 *      `app.inject`: auth, validation, the query, serialisation), 1,200 requests mixing page 1, deep
 *      offsets, a search matching ~1 %, a search matching nothing and sort=name; p50/p95/p99 per kind,
 *      next to the obvious simpler implementation (a separate `count(*)` and a page query, two round
 *      trips, last activity aggregated from live sightings and the audit log per request) registered as a
 *      route on the same app.
 * Everything runs on throwaway databases (Postgres and ClickHouse) dropped at the end.
 * Not a test: it asserts nothing and is never run by `npm test`.
 */
import { cpus, loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Type, type Static } from '@sinclair/typebox';
import { sql } from 'kysely';
import { pino } from 'pino';
import { from as copyFrom } from 'pg-copy-streams';
import {
  connectAnalytics,
  dropAnalyticsDatabase,
  analyticsChatRow,
  insertAnalyticsChatRows,
  insertAnalyticsProbes,
  migrateAnalytics,
  type AnalyticsProbeRow,
} from '@onair/analytics';
import { copyChatMessages, createDb, ensureMonthlyPartition, migrateToLatest, type ChatRow, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry, HttpError } from '@onair/service-kit';
import { buildApp } from '../../apps/summary/src/app';
import {
  computeDailySummariesClickHouse,
  computeDailySummariesPostgres,
  toDailySummaries,
  upsertDailySummaries,
  utcDay,
  type DailyAggregate,
  type DailySummary,
} from '../../apps/summary/src/daily-summary';
import { clickhouseChatDay } from '../../apps/summary/src/daily-summary/sql/clickhouse-chat-day';
import { clickhouseProbeDay } from '../../apps/summary/src/daily-summary/sql/clickhouse-probe-day';
import { listStreamers } from '../../apps/summary/src/read-api/sql/list-streamers';

const CHANNELS = Number(process.env['BENCH_SUMMARY_CHANNELS'] ?? 1_000);
const CHAT_ROWS = Number(process.env['BENCH_SUMMARY_CHAT'] ?? 200_000);
/** Share of channels live at some point of the day. */
const LIVE_SHARE = 0.4;
const STREAMERS = Number(process.env['BENCH_SUMMARY_STREAMERS'] ?? 10_000);
const REQUESTS_PER_KIND = Number(process.env['BENCH_SUMMARY_REQUESTS_PER_KIND'] ?? 240);
const RUNS = 3;

const DAY = '2026-11-23';
const { from: DAY_FROM, to: DAY_TO } = utcDay(DAY);
const DAY0 = DAY_FROM.getTime();
const MINUTE = 60_000;
/** Probes are written for the hour before and the hour after the day too, so the range must filter. */
const EDGE_MINUTES = 60;
const FIRST_PLATFORM_ID = 100_000;
const CH_URL = process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123';
const CH_DATABASE = 'onair_bench_summary';
const TOKEN = 'bench-summary-admin-token-0123456789';

const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** The box is shared: the 1/5/15-minute load averages say how busy it was around a measurement. */
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const secs = (ms: number) => (ms / 1000).toFixed(3);
const ms2 = (ms: number) => ms.toFixed(2);

/** Deterministic PRNG (mulberry32): the same data every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** The PRNG in use: part 1 and part 2 each start their own, so either's data is the same whatever the other's size. */
let rand = prng(20261123);
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

// ============================================================================================
// 1. Daily summary for CHANNELS channels
// ============================================================================================

const testDb = await createTestDatabase('bench_summary');
const handle = createDb({ url: testDb.url, poolMax: 8, applicationName: 'bench-summary' });
await migrateToLatest(handle.db, DAY_FROM);
const pgVersion = (await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(handle.db)).rows[0]!.v;
await dropAnalyticsDatabase(CH_URL, CH_DATABASE);
const analytics = await connectAnalytics({ url: CH_URL, database: CH_DATABASE });
await migrateAnalytics(analytics);
const chVersion = (await (await analytics.client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>())[0]!.v;

log(`onair summary benchmark — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, PostgreSQL ${pgVersion}, ClickHouse ${chVersion}`);
log(`load average at start: ${load()}`);
log('');

await sql`INSERT INTO streamers (display_name) SELECT 'Channel ' || g FROM generate_series(1, ${CHANNELS}::int) g`.execute(handle.db);
// Streamer ids are 1..CHANNELS in a fresh database; channel i is Kick broadcaster FIRST_PLATFORM_ID + i.
await sql`
  INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
  SELECT id, 'kick', (${FIRST_PLATFORM_ID}::bigint + id)::text, 'channel' || id FROM streamers ORDER BY id`.execute(handle.db);

interface Probe {
  channelId: number;
  /** ms since epoch, on the minute. */
  ts: number;
  isLive: boolean;
  viewers: number;
  startedAt: number | null;
  title: string | null;
  category: string | null;
}
const CATEGORIES = ['Just Chatting', 'Slots & Casino', 'GTA V', 'Counter-Strike 2', 'IRL', 'Music', 'Fortnite', 'Minecraft'];

/** Live windows of one channel, in minutes relative to DAY0 (end excluded), each with its stream start. */
interface Session {
  from: number;
  to: number;
  startedAt: number;
}
const stats = { live: 0, restarts: 0, overnight: 0 };
const probes: Probe[] = [];
/** Per channel: its live minutes within the day, for placing chat. */
const liveMinutes: number[][] = [];
for (let c = 1; c <= CHANNELS; c++) {
  const sessions: Session[] = [];
  if (rand() < LIVE_SHARE) {
    stats.live++;
    const duration = between(60, 360);
    if (rand() < 0.1) {
      // Went live the evening before and is still on at midnight.
      stats.overnight++;
      const since = between(30, 240);
      sessions.push({ from: -since, to: duration - since + between(30, 120), startedAt: DAY0 - since * MINUTE });
    } else {
      const from = between(0, 1_440 - 60);
      sessions.push({ from, to: from + duration, startedAt: DAY0 + from * MINUTE });
    }
    if (rand() < 0.25) {
      // A restart: the stream drops, comes back a few minutes later as a new stream.
      stats.restarts++;
      const last = sessions[sessions.length - 1]!;
      const from = last.to + between(2, 30);
      sessions.push({ from, to: from + between(20, 240), startedAt: DAY0 + from * MINUTE });
    }
  }
  const base = Math.floor(Math.exp(rand() * Math.log(5_000))) + 1; // log-uniform 1 … 5,000 viewers
  const category = CATEGORIES[c % CATEGORIES.length]!;
  const mine: number[] = [];
  for (let m = -EDGE_MINUTES; m < 1_440 + EDGE_MINUTES; m++) {
    const s = sessions.find((x) => m >= x.from && m < x.to);
    if (s && m >= 0 && m < 1_440) mine.push(m);
    probes.push(
      s
        ? {
            channelId: c,
            ts: DAY0 + m * MINUTE,
            isLive: true,
            viewers: Math.max(0, Math.round(base * (0.8 + 0.4 * rand()))),
            startedAt: s.startedAt,
            title: `Channel ${c} live - day ${sessions.indexOf(s) + 1} of the marathon`,
            category,
          }
        : // An offline probe: the count is what Kick reports for an offline channel, zero.
          { channelId: c, ts: DAY0 + m * MINUTE, isLive: false, viewers: 0, startedAt: null, title: null, category: null },
    );
  }
  liveMinutes.push(mine);
}
const probesInDay = probes.filter((p) => p.ts >= DAY0 && p.ts < DAY_TO.getTime()).length;

// Chat: most of it in live channels during their live minutes; some while offline; some in channels we
// do not track (both paths must leave those out); 1 % just outside the day. Senders are skewed: a few
// regulars write a lot, across channels.
const chat: ChatRow[] = [];
const liveIdx = liveMinutes.flatMap((mins, i) => (mins.length > 0 ? [i] : []));
let untracked = 0;
for (let i = 0; i < CHAT_ROWS; i++) {
  const roll = rand();
  let platformChannel: string;
  let at: number;
  if (roll < 0.02) {
    untracked++;
    platformChannel = String(900_000 + between(0, 49));
    at = DAY0 + Math.floor(rand() * 86_400_000);
  } else if (roll < 0.03) {
    platformChannel = String(FIRST_PLATFORM_ID + between(1, CHANNELS));
    at = rand() < 0.5 ? DAY0 - between(1, 3_600_000) : DAY_TO.getTime() + between(0, 3_599_999);
  } else if (roll < 0.05 || liveIdx.length === 0) {
    platformChannel = String(FIRST_PLATFORM_ID + between(1, CHANNELS));
    at = DAY0 + Math.floor(rand() * 86_400_000);
  } else {
    const c = liveIdx[Math.floor(rand() * liveIdx.length)]!;
    const mins = liveMinutes[c]!;
    platformChannel = String(FIRST_PLATFORM_ID + c + 1);
    at = DAY0 + mins[Math.floor(rand() * mins.length)]! * MINUTE + Math.floor(rand() * MINUTE);
  }
  const sender = String(1 + Math.floor(50_000 * rand() ** 3));
  const sentAt = new Date(at).toISOString();
  chat.push({
    platform: 'kick',
    messageId: `bench-${i}`,
    channelId: platformChannel,
    senderId: sender,
    senderUsername: `viewer${sender}`,
    content: `message ${i} from the benchmark, a few words long`,
    sentAt,
    receivedAt: sentAt,
    repliesTo: null,
  });
}
const chatInDay = chat.filter((m) => {
  const t = Date.parse(m.sentAt);
  return t >= DAY0 && t < DAY_TO.getTime();
}).length;

log(`1. daily summary of ${DAY} for ${fmt(CHANNELS)} channels`);
log(
  `  data: ${fmt(probesInDay)} probes in the day (+${fmt(probes.length - probesInDay)} in the hour either side); ` +
    `${fmt(stats.live)} channels live at some point (${fmt(stats.restarts)} with a restart, ${fmt(stats.overnight)} live since the evening before)`,
);
log(`        ${fmt(chatInDay)} chat messages in the day (+${fmt(chat.length - chatInDay)} outside it; ${fmt(untracked)} in channels we do not track)`);

// --- load Postgres: COPY in 10k-row chunks into the partitioned tables -------------------------------
for (const at of [new Date(DAY0 - EDGE_MINUTES * MINUTE), DAY_FROM, new Date(DAY_TO.getTime() + EDGE_MINUTES * MINUTE)]) {
  await ensureMonthlyPartition(handle.db, 'probes', at);
  await ensureMonthlyPartition(handle.db, 'chat_messages', at);
}
const loadPgProbes = await timed(async () => {
  const client = await handle.pool.connect();
  try {
    const stream = client.query(copyFrom('COPY probes (channel_id, ts, is_live, viewer_count, stream_started_at, title, category) FROM STDIN'));
    await pipeline(Readable.from(probeCopyText(probes)), stream);
  } finally {
    client.release();
  }
});
const loadPgChat = await timed(async () => {
  for (let i = 0; i < chat.length; i += 50_000) await copyChatMessages(handle.pool, chat.slice(i, i + 50_000));
});
// What autovacuum would have done to a day's partition by 00:05 the next day (untimed).
await sql`VACUUM ANALYZE probes`.execute(handle.db);
await sql`VACUUM ANALYZE chat_messages`.execute(handle.db);
await sql`ANALYZE streamer_channels`.execute(handle.db);

// --- load ClickHouse: JSONEachRow in 100k-row batches, then 1 % of each redelivered -----------------
const chProbe = (p: Probe): AnalyticsProbeRow => ({
  ts: new Date(p.ts).toISOString(),
  channel_id: p.channelId,
  platform: 'kick',
  platform_user_id: String(FIRST_PLATFORM_ID + p.channelId),
  is_live: p.isLive,
  viewer_count: p.viewers,
  stream_started_at: p.startedAt === null ? null : new Date(p.startedAt).toISOString(),
  title: p.title,
  category: p.category,
});
const loadChProbes = await timed(async () => {
  for (let i = 0; i < probes.length; i += 100_000) await insertAnalyticsProbes(analytics, probes.slice(i, i + 100_000).map(chProbe));
});
const loadChChat = await timed(async () => {
  for (let i = 0; i < chat.length; i += 100_000) await insertAnalyticsChatRows(analytics, chat.slice(i, i + 100_000).map(analyticsChatRow));
});
// Redeliveries (a crash between insert and ack): FINAL must count each once, as the Postgres keys do.
await insertAnalyticsProbes(analytics, probes.filter((_, i) => i % 100 === 7).map(chProbe));
await insertAnalyticsChatRows(analytics, chat.filter((_, i) => i % 100 === 7).map(analyticsChatRow));
log(
  `  load: Postgres COPY probes ${secs(loadPgProbes)} s (${fmt(probes.length / (loadPgProbes / 1000))} rows/s), chat ${secs(loadPgChat)} s; ` +
    `ClickHouse JSONEachRow probes ${secs(loadChProbes)} s (${fmt(probes.length / (loadChProbes / 1000))} rows/s), chat ${secs(loadChChat)} s; ` +
    `+1 % of each redelivered to ClickHouse`,
);

// --- the naive baseline: what a cron job does, one query per channel for that channel's day ----------
async function perChannelBaseline(db: Db, day: string): Promise<DailySummary[]> {
  const { from, to } = utcDay(day);
  const cadence = (await db.pool.query<{ m: number }>('SELECT live_probe_minutes AS m FROM settings')).rows[0]!.m;
  const { rows: channels } = await db.pool.query<{ id: number; platform: string; platform_user_id: string }>(
    'SELECT id, platform, platform_user_id FROM streamer_channels ORDER BY id',
  );
  const aggregates: DailyAggregate[] = [];
  for (const ch of channels) {
    const { rows } = await db.pool.query<{ live: number; vsum: string | null; peak: number | null; streams: number; msgs: number; chatters: number; any_probe: boolean }>(
      `SELECT p.live, p.vsum, p.peak, p.streams, p.any_probe, c.msgs, c.chatters
       FROM (SELECT count(*) FILTER (WHERE is_live)::int AS live,
                    sum(viewer_count) FILTER (WHERE is_live)::text AS vsum,
                    max(viewer_count) FILTER (WHERE is_live) AS peak,
                    count(DISTINCT stream_started_at) FILTER (WHERE is_live)::int AS streams,
                    count(*) > 0 AS any_probe
             FROM probes WHERE channel_id = $1 AND ts >= $2 AND ts < $3) p,
            (SELECT count(*)::int AS msgs, count(DISTINCT sender_id)::int AS chatters
             FROM chat_messages WHERE platform = $4 AND channel_id = $5 AND sent_at >= $2 AND sent_at < $3) c`,
      [ch.id, from, to, ch.platform, ch.platform_user_id],
    );
    const r = rows[0]!;
    if (!r.any_probe && r.msgs === 0) continue;
    aggregates.push({
      channelId: ch.id,
      liveProbes: r.live,
      viewerSum: Number(r.vsum ?? 0),
      peakViewers: r.peak ?? 0,
      streams: r.streams,
      chatMessages: r.msgs,
      uniqueChatters: r.chatters,
    });
  }
  return toDailySummaries(day, aggregates, cadence, 'postgres');
}

/** A warm-up call, then RUNS timed calls; the median and each run in ms, and the last answer. */
async function warmMedian<T>(work: () => Promise<T>): Promise<{ median: number; runs: number[]; result: T }> {
  let result = await work();
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = await work();
    runs.push(performance.now() - t0);
  }
  return { median: [...runs].sort((a, b) => a - b)[Math.floor(RUNS / 2)]!, runs, result };
}

const chParts = async () =>
  (
    await (
      await analytics.client.query({
        query: `SELECT table, count() AS n FROM system.parts WHERE database = {db:String} AND active AND table IN ('probes', 'chat_messages') GROUP BY table ORDER BY table`,
        query_params: { db: CH_DATABASE },
        format: 'JSONEachRow',
      })
    ).json<{ table: string; n: string }>()
  )
    .map((r) => `${r.table} ${r.n}`)
    .join(', ');
const partsBefore = await chParts();

const loadBefore1 = load();
const ch = await warmMedian(() => computeDailySummariesClickHouse(analytics, handle.db, DAY));
const chProbeOnly = await warmMedian(() => clickhouseProbeDay(analytics, DAY));
const chChatOnly = await warmMedian(() => clickhouseChatDay(analytics, DAY));
const pg = await warmMedian(() => computeDailySummariesPostgres(handle.db, DAY));
const base = await warmMedian(() => perChannelBaseline(handle, DAY));
const partsAfter = await chParts();
const upsert = await warmMedian(() => upsertDailySummaries(handle.db, ch.result));

const same = (a: DailySummary[], b: DailySummary[]) =>
  a.length === b.length && a.every((r, i) => JSON.stringify({ ...r, source: '' }) === JSON.stringify({ ...b[i]!, source: '' }));
const runsText = (r: { runs: number[] }) => r.runs.map(secs).join('  ');
log(`  load average before/after the timed calls: ${loadBefore1} / ${load()}`);
log(`  ClickHouse active parts while measuring: ${partsBefore} (after: ${partsAfter}); no OPTIMIZE, FINAL does the collapsing`);
log('');
log('                                                   median s   runs (s), each after one warm-up call');
log(`  computeDailySummariesClickHouse                  ${secs(ch.median).padStart(7)}    ${runsText(ch)}`);
log(`    its probe query alone (clickhouseProbeDay)     ${secs(chProbeOnly.median).padStart(7)}    ${runsText(chProbeOnly)}`);
log(`    its chat query alone (clickhouseChatDay)       ${secs(chChatOnly.median).padStart(7)}    ${runsText(chChatOnly)}`);
log(`  computeDailySummariesPostgres                    ${secs(pg.median).padStart(7)}    ${runsText(pg)}`);
log(`  baseline: one query per channel, Postgres        ${secs(base.median).padStart(7)}    ${runsText(base)}`);
log(`  ratio ClickHouse ÷ baseline                      ${(ch.median / base.median).toFixed(3).padStart(7)}    (${(base.median / ch.median).toFixed(1)}× faster)`);
log(`  ratio Postgres ÷ baseline                        ${(pg.median / base.median).toFixed(3).padStart(7)}    (${(base.median / pg.median).toFixed(1)}× faster)`);
log(`  ${`upsertDailySummaries of the ${fmt(ch.result.length)} rows`.padEnd(47)}  ${secs(upsert.median).padStart(7)}    ${runsText(upsert)}`);
log(`  rows: ClickHouse ${fmt(ch.result.length)}, Postgres ${fmt(pg.result.length)}, baseline ${fmt(base.result.length)}`);
log(`  paths agree: ${same(ch.result, pg.result) ? 'yes' : 'NO'}   (baseline agrees with them: ${same(pg.result, base.result) ? 'yes' : 'NO'})`);
const totals = pg.result.reduce(
  (t, r) => ({ vh: t.vh + r.viewerHours, lm: t.lm + r.liveMinutes, st: t.st + r.streams, msgs: t.msgs + r.chatMessages }),
  { vh: 0, lm: 0, st: 0, msgs: 0 },
);
log(`  day totals: ${fmt(totals.vh)} viewer hours, ${fmt(totals.lm)} live minutes, ${fmt(totals.st)} streams, ${fmt(totals.msgs)} chat messages counted`);
log('');

await analytics.close();
await dropAnalyticsDatabase(CH_URL, CH_DATABASE);
await handle.close();
await testDb.drop();
probes.length = 0;
chat.length = 0;

// ============================================================================================
// 2. GET /v1/streamers over STREAMERS streamers
// ============================================================================================

rand = prng(10_000);
const listDb = await createTestDatabase('bench_summary_list');
const list = createDb({ url: listDb.url, poolMax: 4, applicationName: 'bench-summary-list' });
await migrateToLatest(list.db, DAY_FROM);

const ADJECTIVES = [
  'amber', 'arctic', 'astral', 'azure', 'blazing', 'bold', 'brave', 'bright', 'broken', 'bronze', 'calm', 'candid',
  'cosmic', 'crimson', 'crystal', 'cyber', 'daring', 'dark', 'dusty', 'electric', 'emerald', 'epic', 'feral', 'fierce',
  'frosty', 'funky', 'gentle', 'ghostly', 'giant', 'golden', 'grumpy', 'happy', 'hidden', 'hollow', 'humble', 'icy',
  'iron', 'jolly', 'lazy', 'lucky', 'lunar', 'mellow', 'mighty', 'misty', 'modest', 'mystic', 'neon', 'nimble',
  'noble', 'obsidian', 'odd', 'orbital', 'pale', 'pixel', 'plucky', 'polar', 'proud', 'quick', 'quiet', 'radiant',
  'rapid', 'rogue', 'royal', 'rusty', 'sacred', 'salty', 'savage', 'scarlet', 'shadow', 'shiny', 'silent', 'silver',
  'sleepy', 'sly', 'solar', 'sonic', 'spicy', 'stormy', 'sunny', 'swift', 'tidal', 'tiny', 'toxic', 'turbo',
  'twisted', 'ultra', 'vivid', 'velvet', 'violet', 'wicked', 'wild', 'windy', 'wise', 'witty', 'woolly', 'zany',
  'zealous', 'zen', 'zesty', 'jade',
];
const NOUNS = [
  'Fox', 'Wolf', 'Bear', 'Hawk', 'Tiger', 'Otter', 'Panda', 'Raven', 'Viper', 'Falcon', 'Badger', 'Moose', 'Lynx',
  'Cobra', 'Shark', 'Whale', 'Gecko', 'Koala', 'Llama', 'Bison', 'Crane', 'Drake', 'Goose', 'Heron', 'Ibis', 'Jackal',
  'Kraken', 'Lemur', 'Mole', 'Newt', 'Orca', 'Puma', 'Quokka', 'Rhino', 'Sloth', 'Toad', 'Urchin', 'Walrus', 'Yak',
  'Zebra', 'Gamer', 'Knight', 'Pilot', 'Ninja', 'Wizard', 'Bandit', 'Ranger', 'Captain', 'Chef', 'Bard',
];
const SEARCH_HIT = 'velvet';
const SEARCH_MISS = 'qqxjzw';

const names: string[] = [];
const status: string[] = [];
for (let i = 1; i <= STREAMERS; i++) {
  const adj = ADJECTIVES[Math.floor(rand() * ADJECTIVES.length)]!;
  names.push(`${adj[0]!.toUpperCase()}${adj.slice(1)}${NOUNS[Math.floor(rand() * NOUNS.length)]!}${i}`);
  const s = rand();
  status.push(s < 0.9 ? 'active' : s < 0.97 ? 'archived' : 'suspended');
}
// In this order, so streamer i has id i in the fresh database (the Twitch join below relies on it).
await sql`
  INSERT INTO streamers (display_name, status)
  SELECT n, s FROM unnest(${names}::text[], ${status}::text[]) WITH ORDINALITY AS t(n, s, o) ORDER BY o`.execute(list.db);
// Every streamer has a Kick channel (slug = lower-cased name); ~30 % also a Twitch one (slug + "_tv").
const second = names.map(() => rand() < 0.3);
await sql`
  INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
  SELECT s.id, 'kick', (500000 + s.id)::text, lower(s.display_name) FROM streamers s ORDER BY s.id`.execute(list.db);
await sql`
  INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
  SELECT s.id, 'twitch', (700000 + s.id)::text, lower(s.display_name) || '_tv'
  FROM streamers s JOIN unnest(${second}::boolean[]) WITH ORDINALITY AS t(two, o) ON t.o = s.id WHERE t.two`.execute(list.db);
// Every channel has its schedule row; ~10 % never probed yet, ~20 % last seen live, the rest offline;
// last probes spread over the 30 days before a fixed instant.
const channelIds = (await sql<{ id: number }>`SELECT id FROM streamer_channels ORDER BY id`.execute(list.db)).rows.map((r) => Number(r.id));
const LIST_NOW = Date.parse('2026-11-24T12:00:00Z');
const lastProbed: Array<string | null> = [];
const lastLive: Array<boolean | null> = [];
for (const _ of channelIds) {
  const r = rand();
  lastProbed.push(r < 0.1 ? null : new Date(LIST_NOW - Math.floor(rand() * 30 * 86_400_000)).toISOString());
  lastLive.push(r < 0.1 ? null : r < 0.3);
}
await sql`
  INSERT INTO probe_schedule (channel_id, next_probe_at, last_probed_at, last_is_live)
  SELECT id, ${new Date(LIST_NOW + 60_000).toISOString()}::timestamptz, probed, live
  FROM unnest(${channelIds}::bigint[], ${lastProbed}::timestamptz[], ${lastLive}::boolean[]) AS t(id, probed, live)`.execute(list.db);
// What the prober keeps for each streamer: its channels' latest live sighting, and its last activity.
await sql`
  UPDATE streamers s SET last_live_at = a.last_live, last_activity_at = a.last_live, last_activity_kind = 'live'
  FROM (SELECT c.streamer_id, max(p.last_probed_at) AS last_live
        FROM streamer_channels c JOIN probe_schedule p ON p.channel_id = c.id
        WHERE p.last_is_live GROUP BY c.streamer_id) a
  WHERE s.id = a.streamer_id`.execute(list.db);
// Operators' writes about ~10 % of the streamers over the same 30 days (the audit log, as the API writes it,
// moving last activity where newer): the list sorts by the newest of both, which the baseline aggregates.
const audited = names.map(() => (rand() < 0.1 ? new Date(LIST_NOW - Math.floor(rand() * 30 * 86_400_000)).toISOString() : null));
await sql`
  INSERT INTO audit_log (at, actor, action, target_type, target_id)
  SELECT at, 'admin', 'streamer.update', 'streamer', o::text
  FROM unnest(${audited}::timestamptz[]) WITH ORDINALITY AS t(at, o) WHERE at IS NOT NULL`.execute(list.db);
await sql`
  UPDATE streamers s SET last_activity_at = a.at, last_activity_kind = 'operator'
  FROM (SELECT target_id::bigint AS id, max(at) AS at FROM audit_log GROUP BY target_id) a
  WHERE s.id = a.id AND (s.last_activity_at IS NULL OR s.last_activity_at <= a.at)`.execute(list.db);
await sql`VACUUM ANALYZE streamers`.execute(list.db);
await sql`VACUUM ANALYZE streamer_channels`.execute(list.db);
await sql`VACUUM ANALYZE probe_schedule`.execute(list.db);
await sql`VACUUM ANALYZE audit_log`.execute(list.db);
const counts = (
  await sql<{ streamers: number; channels: number; hit: number }>`
    SELECT (SELECT count(*)::int FROM streamers) AS streamers, (SELECT count(*)::int FROM streamer_channels) AS channels,
           (SELECT count(*)::int FROM streamers s WHERE s.display_name ILIKE ${`%${SEARCH_HIT}%`}
              OR EXISTS (SELECT 1 FROM streamer_channels c WHERE c.streamer_id = s.id AND c.slug ILIKE ${`%${SEARCH_HIT}%`})) AS hit`.execute(list.db)
).rows[0]!;

const env = await createTestTopology('bench-summary');
const service = buildApp({
  logger: pino({ level: 'silent' }),
  registry: createMetricsRegistry('summary'),
  messaging: env.messaging,
  topology: env.topology,
  db: list,
  retentionDays: 90,
  worker: 'bench',
  adminToken: TOKEN,
});

// The baseline on the same app, same auth, same query schema and serialisation: a separate count(*),
// then the page query (the same joins and aggregates, no window count) — two round trips.
const BaselineQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    sort: Type.Union([Type.Literal('last_activity'), Type.Literal('name')], { default: 'last_activity' }),
  },
  { additionalProperties: false },
);
void service.server.app.register(async (api) => {
  const expected = `Bearer ${TOKEN}`;
  api.addHook('onRequest', async (request) => {
    if (request.headers.authorization !== expected) throw new HttpError(401, 'unauthorized', 'A valid admin bearer token is required');
  });
  api.get<{ Querystring: Static<typeof BaselineQuery> }>('/bench/baseline/v1/streamers', { schema: { querystring: BaselineQuery, hide: true } }, async (request) => {
    const { limit, offset, q, sort } = request.query;
    const pattern = q ? `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const where = sql`${pattern}::text IS NULL OR s.display_name ILIKE ${pattern}
      OR EXISTS (SELECT 1 FROM streamer_channels c2 WHERE c2.streamer_id = s.id AND c2.slug ILIKE ${pattern})`;
    const total = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM streamers s WHERE ${where}`.execute(list.db)).rows[0]!.n;
    const order = sort === 'name' ? sql`x.display_name, x.id` : sql`x.last_activity DESC NULLS LAST, x.id`;
    // Last activity aggregated from its sources per request (live sightings, operators' writes), as it would be
    // without the kept column.
    const { rows } = await sql<{ id: number; display_name: string; status: string; channels: unknown; last_activity: Date | null; kind: 'live' | 'operator' | null }>`
      SELECT x.*, CASE WHEN x.last_activity IS NULL THEN NULL WHEN x.last_activity = x.live THEN 'live' ELSE 'operator' END AS kind
      FROM (
        SELECT s.id, s.display_name, s.status,
               COALESCE(json_agg(json_build_object('id', c.id, 'platform', c.platform, 'slug', c.slug) ORDER BY c.id)
                        FILTER (WHERE c.id IS NOT NULL), '[]') AS channels,
               max(p.last_probed_at) FILTER (WHERE p.last_is_live) AS live,
               GREATEST(max(p.last_probed_at) FILTER (WHERE p.last_is_live), max(a.at)) AS last_activity
        FROM streamers s
        LEFT JOIN streamer_channels c ON c.streamer_id = s.id
        LEFT JOIN probe_schedule p ON p.channel_id = c.id
        LEFT JOIN (SELECT target_id, max(at) AS at FROM audit_log WHERE target_type = 'streamer' GROUP BY target_id) a
          ON a.target_id = s.id::text
        WHERE ${where}
        GROUP BY s.id
      ) x
      ORDER BY ${order}
      LIMIT ${limit} OFFSET ${offset}`.execute(list.db);
    return {
      total,
      limit,
      offset,
      items: rows.map((r) => ({
        id: Number(r.id),
        displayName: r.display_name,
        status: r.status,
        channels: r.channels,
        lastActivityAt: r.last_activity ? new Date(r.last_activity).toISOString() : null,
        lastActivity: r.last_activity ? { at: new Date(r.last_activity).toISOString(), kind: r.kind } : null,
      })),
    };
  });
});
await service.server.app.ready();

type Kind = 'page 1, no query' | 'offset 9,000–9,980' | `q=${string}` | 'sort=name, offset 0–1,980';
const KINDS: Kind[] = ['page 1, no query', 'offset 9,000–9,980', `q=${SEARCH_HIT}`, `q=${SEARCH_MISS}`, 'sort=name, offset 0–1,980'];
const query = (kind: Kind): string => {
  switch (kind) {
    case 'page 1, no query':
      return '';
    case 'offset 9,000–9,980':
      return `?offset=${9_000 + 20 * between(0, 49)}`;
    case 'sort=name, offset 0–1,980':
      return `?sort=name&offset=${20 * between(0, 99)}`;
    default:
      return `?${kind}`;
  }
};
/** The same shuffled mix for both routes. */
const plan: Array<{ kind: Kind; qs: string }> = [];
for (const kind of KINDS) for (let i = 0; i < REQUESTS_PER_KIND; i++) plan.push({ kind, qs: query(kind) });
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [plan[i], plan[j]] = [plan[j]!, plan[i]!];
}

const inject = (url: string) =>
  service.server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });

async function measureRoute(path: string) {
  // Warm-up: 20 of each kind, untimed.
  for (const { qs } of plan.slice(0, 100)) await inject(`${path}${qs}`);
  const byKind = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  let errors = 0;
  const totals = new Map<Kind, Set<number>>(KINDS.map((k) => [k, new Set()]));
  for (const { kind, qs } of plan) {
    const t0 = performance.now();
    const res = await inject(`${path}${qs}`);
    const elapsed = performance.now() - t0;
    if (res.statusCode !== 200) errors++;
    else totals.get(kind)!.add(res.json<{ total: number }>().total);
    byKind.get(kind)!.push(elapsed);
  }
  return { byKind, errors, totals };
}

const loadBefore2 = load();
const ours = await measureRoute('/v1/streamers');
const baseline = await measureRoute('/bench/baseline/v1/streamers');
// The SQL alone, without HTTP: listStreamers called directly over the same plan.
const direct: number[] = [];
for (const { qs } of plan) {
  const p = new URLSearchParams(qs.slice(1));
  const t0 = performance.now();
  await listStreamers(list.db, {
    limit: 20,
    offset: Number(p.get('offset') ?? 0),
    sort: (p.get('sort') as 'name' | null) ?? 'last_activity',
    ...(p.get('q') ? { q: p.get('q')! } : {}),
  });
  direct.push(performance.now() - t0);
}
// Both routes answer the same for one request of each kind.
let equal = true;
for (const kind of KINDS) {
  const qs = plan.find((x) => x.kind === kind)!.qs;
  const a = (await inject(`/v1/streamers${qs}`)).json();
  const b = (await inject(`/bench/baseline/v1/streamers${qs}`)).json();
  if (JSON.stringify(a) !== JSON.stringify(b)) equal = false;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
};
log(`2. GET /v1/streamers over ${fmt(counts.streamers)} streamers (${fmt(counts.channels)} channels, each with its probe_schedule row)`);
log(
  `  through buildApp(...).server.app.inject with the admin token (auth, validation, query, JSON), one request at a time, ` +
    `${fmt(plan.length)} requests shuffled, after 100 untimed; limit 20`,
);
log(`  q=${SEARCH_HIT} matches ${fmt(counts.hit)} streamers (${((100 * counts.hit) / counts.streamers).toFixed(2)} %), q=${SEARCH_MISS} none`);
log('');
log('                               ours: one statement, window count     baseline: count(*) + page query     ours ÷ baseline');
log('  kind                          n   p50 ms  p95 ms  p99 ms             p50 ms  p95 ms  p99 ms           p50    p99');
const row = (label: string, a: number[], b: number[]) =>
  log(
    `  ${label.padEnd(26)} ${String(a.length).padStart(5)}  ${ms2(pct(a, 0.5)).padStart(6)}  ${ms2(pct(a, 0.95)).padStart(6)}  ${ms2(pct(a, 0.99)).padStart(6)}` +
      `             ${ms2(pct(b, 0.5)).padStart(6)}  ${ms2(pct(b, 0.95)).padStart(6)}  ${ms2(pct(b, 0.99)).padStart(6)}` +
      `          ${(pct(a, 0.5) / pct(b, 0.5)).toFixed(2).padStart(5)}  ${(pct(a, 0.99) / pct(b, 0.99)).toFixed(2).padStart(5)}`,
  );
for (const kind of KINDS) row(kind, ours.byKind.get(kind)!, baseline.byKind.get(kind)!);
const all = (m: Map<Kind, number[]>) => [...m.values()].flat();
row('all', all(ours.byKind), all(baseline.byKind));
log(`  non-200 answers: ours ${ours.errors}, baseline ${baseline.errors}; same answers for one request of each kind: ${equal ? 'yes' : 'NO'}`);
log(`  totals seen (ours): ${KINDS.map((k) => `${k} → ${[...ours.totals.get(k)!].join('/')}`).join('; ')}`);
log(`  load average before/after the requests: ${loadBefore2} / ${load()}`);
log(`  listStreamers called directly (no HTTP), same plan: p50 ${ms2(pct(direct, 0.5))} ms, p95 ${ms2(pct(direct, 0.95))} ms, p99 ${ms2(pct(direct, 0.99))} ms`);
log('');
log('targets (issue 5):');
log(`  ClickHouse day summary ≤ 2 s      median ${secs(ch.median)} s (Postgres path ${secs(pg.median)} s)`);
log(`  streamer list ≤ 20 ms p99         p99 ${ms2(pct(all(ours.byKind), 0.99))} ms over all kinds; worst kind p99 ${ms2(Math.max(...KINDS.map((k) => pct(ours.byKind.get(k)!, 0.99))))} ms`);

await service.server.app.close();
await env.cleanup();
await list.close();
await listDb.drop();
process.exit(0);

async function timed(work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

function* probeCopyText(rows: readonly Probe[]): Generator<string> {
  const iso = (ms: number | null) => (ms === null ? '\\N' : new Date(ms).toISOString());
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const p = rows[i]!;
    chunk += `${p.channelId}\t${iso(p.ts)}\t${p.isLive ? 't' : 'f'}\t${p.viewers}\t${iso(p.startedAt)}\t${p.title ?? '\\N'}\t${p.category ?? '\\N'}\n`;
    if (i % 10_000 === 9_999) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
