import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, ensureMonthlyPartitions, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import type { JobDefinition } from '@onair/jobs';
import { utcDay } from './daily-summary';
import { summaryJobs } from './jobs';

/**
 * The summary's jobs at the calendar's edges, each instant injected: which day the daily summary
 * covers (and the instants that day spans), the period keys of the partition and retention jobs, and
 * what those two jobs make and drop on a throwaway Postgres.
 */
let handle: Db;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  testDb = await createTestDatabase('summary_jobs');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2026-11-30T23:59:59.999Z'));
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

function jobsAt(instant: string, retentionDays = 90): Map<string, JobDefinition> {
  const jobs = summaryJobs({ db: handle.db, retentionDays, now: () => new Date(instant) });
  return new Map(jobs.map((job) => [job.name, job]));
}

/** The period a tick at `instant` enqueues for `job`, as the runner computes it. */
function periodAt(instant: string, name: string): string {
  const job = jobsAt(instant).get(name)!;
  const occurrence = job.schedule!.latest(new Date(instant));
  return job.periodKey?.(occurrence) ?? occurrence.toISOString();
}

const run = (job: JobDefinition) =>
  job.run({ periodKey: 'test', scheduledFor: new Date(0), attempt: 1, working: () => undefined, logger: pino({ level: 'silent' }) });

const partitions = async (table: string) =>
  (
    await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = ${table} ORDER BY 1`.execute(handle.db)
  ).rows.map((r) => r.name);

async function dropAllPartitions(): Promise<void> {
  for (const table of ['probes', 'chat_messages']) {
    for (const name of await partitions(table)) await sql`DROP TABLE ${sql.id(name)}`.execute(handle.db);
  }
}

describe('the day a daily summary covers', () => {
  it.each([
    // now                          daily-summary (00:05)  partitions-ahead (00:10)  retention (00:20)
    ['2026-11-30T23:59:59.999Z', '2026-11-29', '2026-11-30', '2026-11-30'],
    ['2026-12-01T00:00:00.000Z', '2026-11-29', '2026-11-30', '2026-11-30'],
    ['2026-12-01T00:05:00.000Z', '2026-11-30', '2026-11-30', '2026-11-30'],
    ['2026-12-01T00:10:00.000Z', '2026-11-30', '2026-12-01', '2026-11-30'],
    ['2026-12-01T00:20:00.000Z', '2026-11-30', '2026-12-01', '2026-12-01'],
    ['2026-12-31T23:59:50.000Z', '2026-12-30', '2026-12-31', '2026-12-31'],
    ['2027-01-01T00:00:00.000Z', '2026-12-30', '2026-12-31', '2026-12-31'],
    ['2027-01-01T00:05:00.000Z', '2026-12-31', '2026-12-31', '2026-12-31'],
    ['2027-01-31T23:59:59.000Z', '2027-01-30', '2027-01-31', '2027-01-31'],
    ['2027-02-01T00:05:00.000Z', '2027-01-31', '2027-01-31', '2027-01-31'],
    ['2028-02-29T23:59:50.000Z', '2028-02-28', '2028-02-29', '2028-02-29'],
    ['2028-03-01T00:00:00.000Z', '2028-02-28', '2028-02-29', '2028-02-29'],
    ['2028-03-01T00:04:59.999Z', '2028-02-28', '2028-02-29', '2028-02-29'],
    ['2028-03-01T00:05:00.000Z', '2028-02-29', '2028-02-29', '2028-02-29'],
    ['2028-03-01T00:10:00.000Z', '2028-02-29', '2028-03-01', '2028-02-29'],
    ['2028-03-01T00:20:00.000Z', '2028-02-29', '2028-03-01', '2028-03-01'],
  ])('at %s the summary covers %s', (now, summaryDay, partitionsKey, retentionKey) => {
    expect(periodAt(now, 'daily-summary')).toBe(summaryDay);
    // A day is summarised only once it is over, never while it is still in progress.
    expect(utcDay(summaryDay).to.getTime()).toBeLessThanOrEqual(Date.parse(now));
    expect(periodAt(now, 'partitions-ahead')).toBe(partitionsKey);
    expect(periodAt(now, 'retention')).toBe(retentionKey);
  });

  it.each([
    ['2026-11-30', '2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-31', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-31', '2027-01-31T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2027-02-28', '2027-02-28T00:00:00.000Z', '2027-03-01T00:00:00.000Z'],
    ['2028-02-28', '2028-02-28T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('%s spans [%s, %s)', (day, from, to) => {
    expect(utcDay(day)).toEqual({ day, from: new Date(from), to: new Date(to) });
  });

  it('refuses 29 February in a common year, takes it in a leap year', () => {
    expect(() => utcDay('2027-02-29')).toThrow(expect.objectContaining({ code: 'invalid_day' }));
    expect(() => utcDay('2100-02-29')).toThrow(expect.objectContaining({ code: 'invalid_day' }));
    expect(utcDay('2000-02-29').day).toBe('2000-02-29');
    expect(() => utcDay('2026-11-31')).toThrow(expect.objectContaining({ code: 'invalid_day' }));
  });
});

describe('partitions-ahead and retention at the injected instant', () => {
  it.each([
    ['2026-12-31T23:59:50.000Z', ['2026_12', '2027_01', '2027_02', '2027_03']],
    ['2027-01-01T00:00:00.000Z', ['2027_01', '2027_02', '2027_03', '2027_04']],
    ['2028-02-29T23:59:50.000Z', ['2028_02', '2028_03', '2028_04', '2028_05']],
    ['2028-03-01T00:00:00.000Z', ['2028_03', '2028_04', '2028_05', '2028_06']],
  ])('partitions-ahead at %s makes the month and three ahead', async (now, months) => {
    await dropAllPartitions();
    await run(jobsAt(now).get('partitions-ahead')!);
    expect(await partitions('probes')).toEqual(months.map((m) => `probes_${m}`));
    expect(await partitions('chat_messages')).toEqual(months.map((m) => `chat_messages_${m}`));
  });

  it.each([
    // now, retention days: the cutoff is now minus that many days; months ending on or before it go.
    // Partitions exist from four months before `now` to one after it.
    // 29 days before the leap day's last millisecond is still in January; 29 days before 1 March is 1 February.
    ['2028-02-29T23:59:59.999Z', 29, ['probes_2028_01', 'probes_2028_02', 'probes_2028_03']],
    ['2028-03-01T00:00:00.000Z', 29, ['probes_2028_02', 'probes_2028_03', 'probes_2028_04']],
    // 90 days before 2028-02-29T00:00 is 2027-12-01T00:00, where November ends; a millisecond earlier it does not.
    ['2028-02-28T23:59:59.999Z', 90, ['probes_2027_11', 'probes_2027_12', 'probes_2028_01', 'probes_2028_02', 'probes_2028_03']],
    ['2028-02-29T00:00:00.000Z', 90, ['probes_2027_12', 'probes_2028_01', 'probes_2028_02', 'probes_2028_03']],
    // 31 days across the year's end: 2026-12-31T23:59:59 keeps December; 2027-01-01T00:00 drops it.
    ['2027-01-31T23:59:59.000Z', 31, ['probes_2026_12', 'probes_2027_01', 'probes_2027_02']],
    ['2027-02-01T00:00:00.000Z', 31, ['probes_2027_01', 'probes_2027_02', 'probes_2027_03']],
  ])('retention at %s keeping %i days leaves %j', async (now, days, kept) => {
    await dropAllPartitions();
    await ensureMonthlyPartitions(handle.db, 'probes', new Date(now), 4, 1);
    await run(jobsAt(now, days).get('retention')!);
    expect(await partitions('probes')).toEqual(kept);
  });
});
