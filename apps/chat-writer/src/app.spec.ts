import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { connectAnalytics, dropAnalyticsDatabase, migrateAnalytics, type Analytics } from '@onair/analytics';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { waitFor } from '@onair/service-kit/testing';
import type { Registry } from 'prom-client';
import { buildApp, type ChatWriter } from './app';
import { chatMessage, publishChat } from './testing/chat-fixtures';

const CLICKHOUSE_URL = process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123';
const CH_DATABASE = 'onair_test_chat_writer_app';

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let analytics: Analytics;
let writer: ChatWriter;
let registry: Registry;

beforeAll(async () => {
  env = await createTestTopology('chat-writer-app');
  testDb = await createTestDatabase('chat_writer_app');
  db = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(db.db, new Date('2026-11-23T00:00:00Z'));
  await dropAnalyticsDatabase(CLICKHOUSE_URL, CH_DATABASE);
  analytics = await connectAnalytics({ url: CLICKHOUSE_URL, database: CH_DATABASE });
  await migrateAnalytics(analytics);
  // The fixtures keep their 2026 dates; ClickHouse applies the tables' 12-month TTL by its own (real) clock,
  // dropping such rows as they arrive once that is a year later. This throwaway database keeps them.
  await analytics.client.command({ query: `SYSTEM STOP TTL MERGES ${CH_DATABASE}.chat_messages` });
  registry = createMetricsRegistry('chat-writer');
  writer = buildApp({
    logger: pino({ level: 'silent' }),
    registry,
    messaging: env.messaging,
    topology: env.topology,
    db,
    batch: { max: 500, waitMs: 20, concurrency: 2, method: 'unnest' },
  });
  await writer.startPostgres();
  await writer.startClickHouse(analytics);
});
afterAll(async () => {
  await writer?.stop();
  await env?.cleanup();
  await db?.close();
  await testDb?.drop();
  await analytics?.close();
  await dropAnalyticsDatabase(CLICKHOUSE_URL, CH_DATABASE);
});

const pgCount = async (where = sql`true`) =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages WHERE ${where}`.execute(db.db)).rows[0]!.n;
const chCount = async (where = '1') => {
  const result = await analytics.client.query({ query: `SELECT count() AS n FROM chat_messages FINAL WHERE ${where}`, format: 'JSONEachRow' });
  return Number((await result.json<{ n: number }>())[0]!.n);
};

describe('chat-writer', () => {
  it('drains a backlog into Postgres and ClickHouse in batches, each row once', async () => {
    const messages = Array.from({ length: 5000 }, (_, i) => chatMessage(i));
    await publishChat(env.messaging, env.topology, messages);
    await waitFor(() => pgCount(), (n) => n === 5000, { what: 'postgres rows' });
    await waitFor(() => chCount(), (n) => n === 5000, { what: 'clickhouse rows' });

    const stored = await sql<Record<string, unknown>>`SELECT * FROM chat_messages WHERE message_id = 'm-42'`.execute(db.db);
    expect(stored.rows).toEqual([
      {
        platform: 'kick',
        message_id: 'm-42',
        channel_id: 'c-2',
        sender_id: 'u-42',
        sender_username: 'user42',
        content: 'message number 42',
        sent_at: new Date(messages[42]!.sentAt),
        received_at: new Date(messages[42]!.receivedAt),
        replies_to: null,
        stream_seq: expect.any(Number),
      },
    ]);
    // A backlog is written in batches, not row by row.
    const metrics = await registry.getSingleMetricAsString('consumer_batch_size');
    const count = Number(metrics.match(/consumer_batch_size_count\{[^}]*consumer="chat-writer-pg"[^}]*\} (\d+)/)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(5000 / 10);
  });

  it('writes one row for a message delivered three times', async () => {
    const message = chatMessage(1, { messageId: 'dup-1', channelId: 'dup' });
    // Three copies with distinct msgIDs get past the stream's duplicate window, as a redelivery days later would.
    for (const suffix of ['a', 'b', 'c']) {
      await env.messaging.js.publish(env.topology.chat.subject('kick', 'dup'), JSON.stringify(message), { msgID: `dup-1-${suffix}` });
    }
    await env.messaging.js.publish(env.topology.chat.subject('kick', 'dup'), JSON.stringify(chatMessage(2, { messageId: 'dup-marker', channelId: 'dup' })), { msgID: 'dup-marker' });
    await waitFor(() => pgCount(sql`channel_id = 'dup'`), (n) => n === 2, { what: 'marker row' });
    await waitFor(() => chCount(`channel_id = 'dup'`), (n) => n === 2, { what: 'clickhouse marker row' });
    expect(await pgCount(sql`message_id = 'dup-1'`)).toBe(1);
    expect(await chCount(`message_id = 'dup-1'`)).toBe(1);
  });

  it("moves the streamer's last activity forward per batch, throttled, never back", async () => {
    await sql`INSERT INTO streamers (id, display_name) VALUES (901, 'talker'), (902, 'quiet')`.execute(db.db);
    await sql`
      INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
      VALUES (901, 'kick', 'act-1', 'talker'), (901, 'onair', 'room-act', 'talker-room'), (902, 'kick', 'act-2', 'quiet')`.execute(db.db);
    const activity = async () =>
      (await sql<{ id: string; at: Date | null; kind: string | null }>`
        SELECT id, last_activity_at AS at, last_activity_kind AS kind FROM streamers WHERE id IN (901, 902) ORDER BY id`.execute(db.db)).rows.map(
        (r): [number, string | null, string | null] => [Number(r.id), r.at?.toISOString() ?? null, r.kind],
      );
    // Every message published so far is stored and acked (the activity is recorded before the ack). Before
    // the dead-letter case, whose poison messages would keep this consumer's ack floor behind.
    const settled = () =>
      waitFor(
        () => env.messaging.jsm.consumers.info(env.topology.chat.stream, env.topology.consumers.chatToPostgres),
        (info) => info.num_pending === 0 && info.num_ack_pending === 0,
        { what: 'chat-writer-pg caught up' },
      );
    const at = (time: string, channelId: string, id: string, platform: 'kick' | 'onair' = 'kick') =>
      chatMessage(0, { platform, channelId, messageId: id, sentAt: `2026-11-23T${time}Z`, receivedAt: `2026-11-23T${time}Z` });

    // A burst over 20 s on one channel (several batches) moves its streamer on the first batch stored, and not
    // again: every later batch is within the throttle (30 s) of it. A channel no streamer owns moves nothing.
    const burst = Array.from({ length: 2000 }, (_, i) => at(`13:00:${String(Math.floor(i / 100)).padStart(2, '0')}.${String(i % 100).padStart(3, '0')}`, 'act-1', `burst-${i}`));
    await publishChat(env.messaging, env.topology, [...burst, at('13:30:00.000', 'nobody', 'stray')]);
    await settled();
    const [[, first, kind], quiet] = (await activity()) as [[number, string | null, string | null], unknown];
    expect(kind).toBe('chat');
    expect(first! >= '2026-11-23T13:00:00.000Z' && first! < '2026-11-23T13:00:19.099Z').toBe(true);
    expect(quiet).toEqual([902, null, null]);

    // Within the throttle of the stored value: left as it is; past it: moved. A first-party room counts.
    const later = (ms: number) => new Date(Date.parse(first!) + ms).toISOString().slice(11, 23);
    await publishChat(env.messaging, env.topology, [at(later(29_000), 'room-act', 'room-1', 'onair')]);
    await settled();
    expect((await activity())[0]).toEqual([901, first, 'chat']);
    await publishChat(env.messaging, env.topology, [at('13:01:00.000', 'room-act', 'room-2', 'onair')]);
    await waitFor(activity, (rows) => rows[0]![1] === '2026-11-23T13:01:00.000Z', { what: 'room chat moved it' });

    // An older message (a redelivery, a late webhook) never moves it back, however far behind.
    await publishChat(env.messaging, env.topology, [at('11:00:00.000', 'act-1', 'old-1'), at('11:00:00.000', 'act-2', 'old-2')]);
    await waitFor(activity, (rows) => rows[1]![1] === '2026-11-23T11:00:00.000Z', { what: 'quiet streamer first activity' });
    await settled();
    expect(await activity()).toEqual([[901, '2026-11-23T13:01:00.000Z', 'chat'], [902, '2026-11-23T11:00:00.000Z', 'chat']]);

    // A sent time past when ingest received the message counts as received: a wrong clock cannot pin it on top.
    await publishChat(env.messaging, env.topology, [{ ...at('12:00:00.000', 'act-2', 'future'), sentAt: '2030-01-01T00:00:00.000Z' }]);
    await waitFor(activity, (rows) => rows[1]![1] === '2026-11-23T12:00:00.000Z', { what: 'clamped to received time' });
  });

  it('dead-letters a message that can never be written, with its reason, and writes the rest of its batch', async () => {
    const subject = env.topology.chat.subject('kick', 'poison');
    await env.messaging.js.publish(subject, '{not json', { msgID: 'poison-1' });
    await env.messaging.js.publish(subject, JSON.stringify({ ...chatMessage(3), channelId: 'poison', sentAt: 'soon' }), { msgID: 'poison-2' });
    await publishChat(env.messaging, env.topology, [chatMessage(4, { messageId: 'after-poison', channelId: 'poison' })]);
    await waitFor(() => pgCount(sql`channel_id = 'poison'`), (n) => n === 1, { what: 'good row next to poison' });

    const dlq = env.topology.deadLetter.stream;
    const letters = await waitFor(
      async () => {
        const info = await env.messaging.jsm.streams.info(dlq);
        const found = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
          const m = await env.messaging.jsm.streams.getMessage(dlq, { seq }).catch(() => null);
          if (m) found.push(m.json<{ consumer: string; reason: string; payload: string }>());
        }
        return found;
      },
      (found) => found.length === 4,
      { what: 'dead letters from both consumers' },
    );
    const pg = letters.filter((l) => l.consumer === 'chat-writer-pg').map((l) => l.reason).sort();
    expect(pg).toEqual([expect.stringMatching(/not JSON/), expect.stringMatching(/sentAt/)].sort());
    expect(letters.find((l) => l.reason.includes('not JSON'))?.payload).toBe('{not json');
  });

  it('reports its lag and health', async () => {
    expect((await writer.server.app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { nats: true, postgres: true } });
    const metrics = await (await writer.server.app.inject('/metrics')).body;
    expect(metrics).toMatch(/consumer_pending_messages\{consumer="chat-writer-pg",state="pending",service="chat-writer"\} 0/);
    expect(metrics).toMatch(/chat_rows_written_total\{sink="postgres",service="chat-writer"\} \d+/);
  });
});
