import { connectAnalyticsInBackground, migrateAnalytics, type Analytics } from '@onair/analytics';
import { createTopology, streamDefinitions, streamLimits } from '@onair/contracts';
import { createDb, ensureDatabaseExists, migrateToLatest } from '@onair/database';
import { connectMessaging, ensureStreams } from '@onair/messaging';
import { createTelegramNotifier } from '@onair/notifier';
import { createLogger, createMetricsRegistry, createShutdown, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseSummaryConfig } from './config';

const config = loadConfigOrExit(() => parseSummaryConfig(process.env));
const logger = createLogger({ service: 'summary', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('summary');
const topology = createTopology(config.NATS_NAMESPACE);
const messaging = await connectMessaging({ url: config.NATS_URL, name: 'summary', logger });
await ensureStreams(messaging.jsm, streamDefinitions(topology, streamLimits(config)));
await ensureDatabaseExists(config.DATABASE_URL);
const db = createDb({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX, applicationName: 'summary' });
await migrateToLatest(db.db, new Date());

const notifier =
  config.TELEGRAM_BOT_TOKEN && config.TELEGRAM_CHAT_ID
    ? createTelegramNotifier({ apiBase: config.TELEGRAM_API_BASE, botToken: config.TELEGRAM_BOT_TOKEN, chatId: config.TELEGRAM_CHAT_ID, registry, logger })
    : undefined;
if (!notifier) logger.warn('TELEGRAM_BOT_TOKEN / TELEGRAM_CHAT_ID not set: daily summaries are stored but not sent');

let analytics: Analytics | undefined;
const service = buildApp({
  logger,
  registry,
  messaging,
  topology,
  db,
  analytics: () => analytics,
  ...(notifier ? { notifier } : {}),
  retentionDays: config.RETENTION_DAYS,
  worker: config.WORKER_ID,
  adminToken: config.ADMIN_TOKEN,
  http: httpServerConfig(config),
  dailySummaryAckWaitMs: config.DAILY_SUMMARY_ACK_WAIT_MS,
});

const shutdown = createShutdown(logger, [
  { name: 'http: refuse new work', run: () => service.server.startDraining() },
  { name: 'jobs: finish the job in progress', run: () => service.stop() },
  { name: 'http: close', run: () => service.server.app.close() },
  { name: 'nats: drain', run: () => messaging.drain() },
  { name: 'postgres: end pool', run: () => db.close() },
  { name: 'clickhouse: close', run: () => analytics?.close() },
]);
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await service.server.app.listen({ host: config.HOST, port: config.PORT });
if (config.CLICKHOUSE_URL) {
  connectAnalyticsInBackground({
    url: config.CLICKHOUSE_URL,
    database: config.CLICKHOUSE_DATABASE,
    migrate: migrateAnalytics,
    async onReady(connected) {
      analytics = connected;
      logger.info('clickhouse ready: summaries are computed there');
    },
    onRetry: (error, attempt) => logger.warn({ err: error, attempt }, 'clickhouse not reachable yet: summaries use Postgres meanwhile'),
  });
} else {
  logger.warn('CLICKHOUSE_URL is empty: summaries are computed in Postgres');
}
await service.start({ tickMs: config.JOB_TICK_MS });
