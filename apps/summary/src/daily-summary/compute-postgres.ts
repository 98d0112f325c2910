import type { Kysely } from 'kysely';
import { toDailySummaries, withGifts, type DailySummary } from './daily-summary';
import { utcDay } from './day';
import { postgresDayAggregates } from './sql/postgres-day-aggregates';
import { postgresGiftDay } from './sql/postgres-gift-day';
import { readLiveProbeMinutes } from './sql/read-live-probe-minutes';

/**
 * Summaries for one UTC day (`YYYY-MM-DD`) aggregated in Postgres: the path when ClickHouse is not
 * configured. One row per channel with probes, chat or gifts that day, ordered by channel id.
 */
export async function computeDailySummariesPostgres(db: Kysely<any>, day: string): Promise<DailySummary[]> {
  const { from, to } = utcDay(day);
  const [cadence, aggregates, gifts] = await Promise.all([readLiveProbeMinutes(db), postgresDayAggregates(db, from, to), postgresGiftDay(db, day)]);
  return toDailySummaries(day, withGifts(aggregates, gifts), cadence, 'postgres');
}
