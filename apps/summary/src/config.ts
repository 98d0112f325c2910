import { hostname } from 'node:os';
import { adminConfig, commonConfig, int, kickAppConfig, optionalUrl, parseConfig, str, url } from '@onair/service-kit';

const shape = {
  ...commonConfig(8083),
  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/onair', protocols: ['postgres', 'postgresql'] }),
  DB_POOL_MAX: int({ default: 4, min: 1 }),
  CLICKHOUSE_URL: optionalUrl({ default: 'http://127.0.0.1:8123', protocols: ['http', 'https'] }),
  CLICKHOUSE_DATABASE: str({ default: 'onair' }),
  TELEGRAM_API_BASE: url({ default: 'https://api.telegram.org', protocols: ['http', 'https'] }),
  /** Bot token and chat for the daily message; both empty: no message (said in the log). */
  TELEGRAM_BOT_TOKEN: str({ default: '', allowEmpty: true, secret: true }),
  TELEGRAM_CHAT_ID: str({ default: '', allowEmpty: true }),
  /** Days of probes and chat kept in Postgres; older monthly partitions are dropped. */
  RETENTION_DAYS: int({ default: 90, min: 1 }),
  /** How often each replica checks for due jobs, in ms. */
  JOB_TICK_MS: int({ default: 30_000, min: 1_000 }),
  /**
   * How long the daily-summary job's worker may be silent before the day is handed to another, in ms: the
   * delay before a day whose worker died runs again. Progress heartbeats go every third of it.
   */
  DAILY_SUMMARY_ACK_WAIT_MS: int({ default: 120_000, min: 3_000 }),
  /** Bearer token of the admin read API (at least 24 characters, no default). */
  ...adminConfig(),
  /** Kick API origins and the app's client credentials (both empty: no onboarding, no subscription jobs). */
  ...kickAppConfig(),
  /** Minutes a live Kick channel with viewers may send no webhook before the watchdog resubscribes it. */
  KICK_WEBHOOK_SILENCE_MINUTES: int({ default: 15, min: 5, max: 24 * 60 }),
  /** Viewers a live channel needs before its silence counts (small streams can be quiet for long). */
  KICK_WEBHOOK_MIN_VIEWERS: int({ default: 20, min: 1 }),
  /**
   * The realtime gateway's URL as operators' browsers reach it: the console's chat tail reads room history
   * and the Pusher config there. Empty: the console shows no chat tail.
   */
  CONSOLE_GATEWAY_URL: optionalUrl({ default: 'http://127.0.0.1:8082', protocols: ['http', 'https'] }),
  /** How long a console sign-in lasts, in hours (the cookie's and the session row's lifetime). */
  CONSOLE_SESSION_HOURS: int({ default: 12, min: 1, max: 168 }),
  /** Name of this worker in job_runs. */
  WORKER_ID: str({ default: `${hostname()}-${process.pid}` }),
};

export type SummaryConfig = ReturnType<typeof parseSummaryConfig>;

export function parseSummaryConfig(env: Record<string, string | undefined>) {
  return parseConfig(shape, env);
}
