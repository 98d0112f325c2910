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
