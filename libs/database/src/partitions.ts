import { sql, type Kysely } from 'kysely';

/** Tables range-partitioned by month, and the column they are partitioned on. */
export const MONTHLY_TABLES = { chat_messages: 'sent_at', probes: 'ts' } as const;
export type MonthlyTable = keyof typeof MONTHLY_TABLES;

/** First instant (UTC) of the month holding `at`, plus `offset` months. */
export function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

/** `chat_messages_2026_11` for November 2026. */
export function partitionName(table: MonthlyTable, month: Date): string {
  const m = String(month.getUTCMonth() + 1).padStart(2, '0');
  return `${table}_${month.getUTCFullYear()}_${m}`;
}

/**
 * Creates the monthly partition holding `at` if missing. Safe to race with other replicas: one creates,
 * the others see it exist.
 */
export async function ensureMonthlyPartition(db: Kysely<any>, table: MonthlyTable, at: Date): Promise<string> {
  const from = monthStart(at);
  const to = monthStart(at, 1);
  const name = partitionName(table, from);
  try {
    await sql`CREATE TABLE IF NOT EXISTS ${sql.id(name)} PARTITION OF ${sql.id(table)}
      FOR VALUES FROM (${sql.lit(from.toISOString())}) TO (${sql.lit(to.toISOString())})`.execute(db);
  } catch (error) {
    // 42P07 duplicate_table / 23505 on pg_type: a concurrent CREATE won; the partition exists.
    const code = (error as { code?: string }).code;
    if (code !== '42P07' && code !== '23505') throw error;
  }
  return name;
}

/** Ensures partitions from `monthsBack` months before `now` to `monthsAhead` after it. */
export async function ensureMonthlyPartitions(
  db: Kysely<any>,
  table: MonthlyTable,
  now: Date,
  monthsBack: number,
  monthsAhead: number,
): Promise<string[]> {
  const names: string[] = [];
  for (let offset = -monthsBack; offset <= monthsAhead; offset++) {
    names.push(await ensureMonthlyPartition(db, table, monthStart(now, offset)));
  }
  return names;
}

/**
 * Drops the monthly partitions of `table` that end on or before `cutoff` (whole months only: a month
 * still partly inside the retention stays). Dropping a partition is instant and frees its space at once,
 * unlike DELETE. Returns the dropped partition names.
 */
export async function dropMonthlyPartitionsBefore(db: Kysely<any>, table: MonthlyTable, cutoff: Date): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table}`.execute(db);
  const dropped: string[] = [];
  const pattern = new RegExp(`^${table}_(\\d{4})_(\\d{2})$`);
  for (const { name } of rows) {
    const m = pattern.exec(name);
    if (!m) continue;
    const end = new Date(Date.UTC(Number(m[1]), Number(m[2]), 1));
    if (end.getTime() > cutoff.getTime()) continue;
    await sql`DROP TABLE IF EXISTS ${sql.id(name)}`.execute(db);
    dropped.push(name);
  }
  return dropped.sort();
}
