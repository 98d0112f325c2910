import { connectAnalyticsInBackground, migrateAnalytics, type Analytics } from '@onair/analytics';
import type { Logger } from '@onair/service-kit';

export interface ClickHouseBootOptions {
  /** `CLICKHOUSE_URL`; empty or unset switches ClickHouse off (said in the log as `whenOff`). */
  url: string | undefined;
  /** `CLICKHOUSE_DATABASE`, created if missing and migrated before `onReady`. */
  database: string;
  logger: Logger;
  /** Logged (warn) once when `url` is empty: what the service does without ClickHouse. */
  whenOff: string;
  /** Logged (warn, with `err` and `attempt`) after each failed attempt; the next one follows in 5 s. */
  whileUnreachable: string;
  /** Called once, with the connected and migrated client. */
  onReady(analytics: Analytics): Promise<void>;
}

/**
 * ClickHouse, connected and migrated in the background, retrying every 5 s: a service starts and serves
 * without it (what needs it waits in the stream or falls back to Postgres). Returns at once.
 */
export function connectClickHouseInBackground(options: ClickHouseBootOptions): void {
  const { logger, url } = options;
  if (!url) {
    logger.warn(options.whenOff);
    return;
  }
  connectAnalyticsInBackground({
    url,
    database: options.database,
    migrate: migrateAnalytics,
    onReady: options.onReady,
    onRetry: (error, attempt) => logger.warn({ err: error, attempt }, options.whileUnreachable),
  });
}
