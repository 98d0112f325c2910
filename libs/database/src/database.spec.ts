import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, type Db } from './connect';
import { migrateToLatest } from './migrate';
import { insertChatMessages } from './sql/insert-chat-messages';
import { copyChatMessages } from './sql/copy-chat-messages';
import { dropMonthlyPartitionsBefore, ensureMonthlyPartition, ensureMonthlyPartitions } from './partitions';
import type { ChatRow } from './chat-row';
import { createTestDatabase } from './testing';

// Every partition this file makes follows from this one instant, never from the wall clock.
const NOW = new Date('2026-11-23T00:00:00Z');
let handle: Db;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  testDb = await createTestDatabase('database_spec');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, NOW);
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

function row(i: number, overrides: Partial<ChatRow> = {}): ChatRow {
  return {
    platform: 'kick',
    messageId: `m${i}`,
    channelId: 'c1',
    senderId: 's1',
    senderUsername: 'alice',
    content: `hello ${i}`,
    sentAt: '2026-11-23T10:00:00.000Z',
    receivedAt: '2026-11-23T10:00:00.500Z',
    repliesTo: null,
    streamSeq: i + 1,
    ...overrides,
  };
}

describe('chat message writes', () => {
  it('migrates twice without harm (replicas start together)', async () => {
    await expect(migrateToLatest(handle.db, NOW)).resolves.toEqual([]);
  });

  it.each([
    ['unnest', (rows: ChatRow[]) => insertChatMessages(handle.db, rows)],
    ['copy', (rows: ChatRow[]) => copyChatMessages(handle.pool, rows)],
  ])('%s stores each message once, however often it is written', async (method, write) => {
    const rows = Array.from({ length: 1500 }, (_, i) => row(i, { platform: method }));
    expect(await write(rows)).toBe(1500);
    expect(await write(rows.slice(0, 700))).toBe(0);
    const { rows: counted } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages WHERE platform = ${method}`.execute(handle.db);
    expect(counted[0]!.n).toBe(1500);
  });

  it('keeps awkward text byte for byte on both paths', async () => {
    const content = 'tab\there\nnew\\line\r\u0000x'.replace('\u0000', '') + ' 😀 \u202e';
    await insertChatMessages(handle.db, [row(1, { platform: 'odd-unnest', content, repliesTo: 'm0' })]);
    await copyChatMessages(handle.pool, [row(1, { platform: 'odd-copy', content, repliesTo: null })]);
    const { rows } = await sql<{ platform: string; content: string; replies_to: string | null }>`
      SELECT platform, content, replies_to FROM chat_messages WHERE platform LIKE 'odd-%' ORDER BY platform`.execute(handle.db);
    expect(rows).toEqual([
      { platform: 'odd-copy', content, replies_to: null },
      { platform: 'odd-unnest', content, replies_to: 'm0' },
    ]);
  });

  it('refuses a row whose month has no partition, and takes it once the partition exists', async () => {
    const old = row(1, { platform: 'old', sentAt: '2020-01-15T00:00:00.000Z' });
    await expect(insertChatMessages(handle.db, [old])).rejects.toThrow(/partition/);
    await ensureMonthlyPartition(handle.db, 'chat_messages', new Date(old.sentAt));
    await ensureMonthlyPartition(handle.db, 'chat_messages', new Date(old.sentAt));
    expect(await insertChatMessages(handle.db, [old])).toBe(1);
  });

  it('drops whole months older than the retention, and only those', async () => {
    await ensureMonthlyPartitions(handle.db, 'probes', new Date('2026-05-15T00:00:00Z'), 0, 0);
    await ensureMonthlyPartitions(handle.db, 'probes', new Date('2026-08-15T00:00:00Z'), 0, 0);
    // 90 days before 2026-11-23 is 2026-08-25: July ends before it, August does not.
    const dropped = await dropMonthlyPartitionsBefore(handle.db, 'probes', new Date('2026-08-25T00:00:00Z'));
    expect(dropped).toEqual(['probes_2026_05']);
    const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'probes' ORDER BY 1`.execute(handle.db);
    expect(rows.map((r) => r.name)).toEqual(['probes_2026_08', 'probes_2026_10', 'probes_2026_11', 'probes_2026_12', 'probes_2027_01', 'probes_2027_02']);
  });
});
