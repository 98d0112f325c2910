export { computeDailySummariesClickHouse } from './compute-clickhouse';
export { computeDailySummariesPostgres } from './compute-postgres';
export { toDailySummaries, withGifts } from './daily-summary';
export type { DailyAggregate, DailySummary, SummarySource } from './daily-summary';
export { InvalidDayError, utcDay } from './day';
export type { UtcDay } from './day';
export { formatDailySummaryMessage } from './format-message';
export type { FormatOptions } from './format-message';
export { upsertDailySummaries } from './sql/upsert-daily-summaries';
