import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, type Db } from './connect';
import { migrateToLatest } from './migrate';
import { dropMonthlyPartitionsBefore, ensureMonthlyPartitions, MONTHLY_TABLES, monthStart, partitionName, type MonthlyTable } from './partitions';
import { insertChatMessages } from './sql/insert-chat-messages';
import { createTestDatabase } from './testing';

/**
 * Monthly partitions at the calendar's edges: the last millisecond or seconds of a month, of a year and
 * of a leap day, and the instant after each. Every instant is given; none comes from the wall clock.
 * Expected names are written out by hand; Postgres itself routes rows, so the bounds it was given are
 * checked by where boundary rows land.
 */
let handle: Db;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  testDb = await createTestDatabase('partitions_spec');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2026-11-30T23:59:59.999Z'));
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

const partitions = async (table: MonthlyTable) =>
  (
    await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = ${table} ORDER BY 1`.execute(handle.db)
  ).rows.map((r) => r.name);

async function dropAllPartitions(): Promise<void> {
  for (const table of Object.keys(MONTHLY_TABLES) as MonthlyTable[]) {
    for (const name of await partitions(table)) await sql`DROP TABLE ${sql.id(name)}`.execute(handle.db);
  }
}

describe('the month an instant falls in', () => {
  it.each([
    // instant                      its month     the next month   -1 month      +3 months
    ['2026-11-30T23:59:59.999Z', '2026-11-01', '2026-12-01', '2026-10-01', '2027-02-01'],
    ['2026-12-01T00:00:00.000Z', '2026-12-01', '2027-01-01', '2026-11-01', '2027-03-01'],
    ['2026-12-31T23:59:50.000Z', '2026-12-01', '2027-01-01', '2026-11-01', '2027-03-01'],
    ['2027-01-01T00:00:00.000Z', '2027-01-01', '2027-02-01', '2026-12-01', '2027-04-01'],
    ['2027-01-31T23:59:59.000Z', '2027-01-01', '2027-02-01', '2026-12-01', '2027-04-01'],
    ['2027-02-01T00:00:00.000Z', '2027-02-01', '2027-03-01', '2027-01-01', '2027-05-01'],
    ['2028-02-29T23:59:50.000Z', '2028-02-01', '2028-03-01', '2028-01-01', '2028-05-01'],
    ['2028-02-29T23:59:59.999Z', '2028-02-01', '2028-03-01', '2028-01-01', '2028-05-01'],
    ['2028-03-01T00:00:00.000Z', '2028-03-01', '2028-04-01', '2028-02-01', '2028-06-01'],
  ])('%s is in the month of %s', (instant, month, next, before, ahead) => {
    const at = new Date(instant);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    expect(day(monthStart(at))).toBe(month);
    expect(monthStart(at).toISOString()).toBe(`${month}T00:00:00.000Z`);
    expect(day(monthStart(at, 1))).toBe(next);
    expect(day(monthStart(at, -1))).toBe(before);
    expect(day(monthStart(at, 3))).toBe(ahead);
    expect(partitionName('probes', monthStart(at))).toBe(`probes_${month.slice(0, 4)}_${month.slice(5, 7)}`);
  });
});

describe('migrateToLatest makes the partitions around the instant it is given (one month back, three ahead)', () => {
  it.each([
    ['2026-11-30T23:59:59.999Z', ['2026_10', '2026_11', '2026_12', '2027_01', '2027_02']],
    ['2026-12-01T00:00:00.000Z', ['2026_11', '2026_12', '2027_01', '2027_02', '2027_03']],
    ['2026-12-31T23:59:50.000Z', ['2026_11', '2026_12', '2027_01', '2027_02', '2027_03']],
    ['2027-01-01T00:00:00.000Z', ['2026_12', '2027_01', '2027_02', '2027_03', '2027_04']],
    ['2027-01-31T23:59:59.000Z', ['2026_12', '2027_01', '2027_02', '2027_03', '2027_04']],
    ['2027-02-01T00:00:00.000Z', ['2027_01', '2027_02', '2027_03', '2027_04', '2027_05']],
    ['2028-02-29T23:59:50.000Z', ['2028_01', '2028_02', '2028_03', '2028_04', '2028_05']],
    ['2028-03-01T00:00:00.000Z', ['2028_02', '2028_03', '2028_04', '2028_05', '2028_06']],
  ])('at %s', async (instant, months) => {
    await dropAllPartitions();
    await migrateToLatest(handle.db, new Date(instant));
    expect(await partitions('probes')).toEqual(months.map((m) => `probes_${m}`));
    expect(await partitions('chat_messages')).toEqual(months.map((m) => `chat_messages_${m}`));
  });
});

describe('partition bounds, as Postgres routes rows', () => {
  it.each([
    ['2026-11-30T23:59:59.999Z', 'chat_messages_2026_11'],
    ['2026-12-01T00:00:00.000Z', 'chat_messages_2026_12'],
    ['2026-12-31T23:59:50.000Z', 'chat_messages_2026_12'],
    ['2026-12-31T23:59:59.999Z', 'chat_messages_2026_12'],
    ['2027-01-01T00:00:00.000Z', 'chat_messages_2027_01'],
    ['2027-01-31T23:59:59.000Z', 'chat_messages_2027_01'],
    ['2027-02-01T00:00:00.000Z', 'chat_messages_2027_02'],
    ['2028-02-29T23:59:50.000Z', 'chat_messages_2028_02'],
    ['2028-02-29T23:59:59.999Z', 'chat_messages_2028_02'],
    ['2028-03-01T00:00:00.000Z', 'chat_messages_2028_03'],
  ])('a message sent at %s lands in %s', async (sentAt, partition) => {
    await ensureMonthlyPartitions(handle.db, 'chat_messages', new Date(sentAt), 0, 0);
    const messageId = `edge-${sentAt}`;
    await insertChatMessages(handle.db, [
      { platform: 'kick', messageId, channelId: 'c1', senderId: 's1', senderUsername: 'a', content: 'x', sentAt, receivedAt: sentAt, repliesTo: null, streamSeq: 1 },
    ]);
    const { rows } = await sql<{ partition: string; sent_at: Date }>`
      SELECT tableoid::regclass::text AS partition, sent_at FROM chat_messages WHERE message_id = ${messageId}`.execute(handle.db);
    expect(rows).toEqual([{ partition, sent_at: new Date(sentAt) }]);
  });
});

describe('dropMonthlyPartitionsBefore drops whole months ending on or before the cutoff', () => {
  it.each([
    // cutoff                       dropped                        kept (of 2026-10 … 2027-03)
    ['2026-11-30T23:59:59.999Z', ['probes_2026_10'], ['probes_2026_11', 'probes_2026_12', 'probes_2027_01', 'probes_2027_02', 'probes_2027_03']],
    ['2026-12-01T00:00:00.000Z', ['probes_2026_10', 'probes_2026_11'], ['probes_2026_12', 'probes_2027_01', 'probes_2027_02', 'probes_2027_03']],
    ['2026-12-31T23:59:50.000Z', ['probes_2026_10', 'probes_2026_11'], ['probes_2026_12', 'probes_2027_01', 'probes_2027_02', 'probes_2027_03']],
    ['2027-01-01T00:00:00.000Z', ['probes_2026_10', 'probes_2026_11', 'probes_2026_12'], ['probes_2027_01', 'probes_2027_02', 'probes_2027_03']],
    ['2027-01-31T23:59:59.000Z', ['probes_2026_10', 'probes_2026_11', 'probes_2026_12'], ['probes_2027_01', 'probes_2027_02', 'probes_2027_03']],
    ['2027-02-01T00:00:00.000Z', ['probes_2026_10', 'probes_2026_11', 'probes_2026_12', 'probes_2027_01'], ['probes_2027_02', 'probes_2027_03']],
  ])('cutoff %s', async (cutoff, dropped, kept) => {
    await dropAllPartitions();
    await ensureMonthlyPartitions(handle.db, 'probes', new Date('2026-12-15T00:00:00Z'), 2, 3);
    expect(await dropMonthlyPartitionsBefore(handle.db, 'probes', new Date(cutoff))).toEqual(dropped);
    expect(await partitions('probes')).toEqual(kept);
  });

  it.each([
    ['2028-02-29T23:59:50.000Z', ['probes_2027_12', 'probes_2028_01'], ['probes_2028_02', 'probes_2028_03']],
    ['2028-03-01T00:00:00.000Z', ['probes_2027_12', 'probes_2028_01', 'probes_2028_02'], ['probes_2028_03']],
  ])('cutoff %s (leap day)', async (cutoff, dropped, kept) => {
    await dropAllPartitions();
    await ensureMonthlyPartitions(handle.db, 'probes', new Date('2028-01-15T00:00:00Z'), 1, 2);
    expect(await dropMonthlyPartitionsBefore(handle.db, 'probes', new Date(cutoff))).toEqual(dropped);
    expect(await partitions('probes')).toEqual(kept);
  });
});
