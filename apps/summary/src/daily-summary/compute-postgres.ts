import type { Kysely } from 'kysely';
import { toDailySummaries, type DailySummary } from './daily-summary';
import { utcDay } from './day';
import { postgresDayAggregates } from './sql/postgres-day-aggregates';
import { readLiveProbeMinutes } from './sql/read-live-probe-minutes';

/**
 * Summaries for one UTC day (`YYYY-MM-DD`) aggregated in Postgres: the path when ClickHouse is not
 * configured. One row per channel with probes or chat that day, ordered by channel id.
 */
export async function computeDailySummariesPostgres(db: Kysely<any>, day: string): Promise<DailySummary[]> {
  const { from, to } = utcDay(day);
  const cadence = await readLiveProbeMinutes(db);
  return toDailySummaries(day, await postgresDayAggregates(db, from, to), cadence, 'postgres');
}
