import { connectAnalyticsInBackground, migrateAnalytics, type Analytics } from '@onair/analytics';
import { createTopology, streamDefinitions, streamLimits } from '@onair/contracts';
import { createDb, ensureDatabaseExists, migrateToLatest } from '@onair/database';
import { connectMessaging, ensureStreams } from '@onair/messaging';
import { createLogger, createMetricsRegistry, createShutdown, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseChatWriterConfig } from './config';

const config = loadConfigOrExit(() => parseChatWriterConfig(process.env));
const logger = createLogger({ service: 'chat-writer', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('chat-writer');
const topology = createTopology(config.NATS_NAMESPACE);

const messaging = await connectMessaging({ url: config.NATS_URL, name: 'chat-writer', logger });
await ensureStreams(messaging.jsm, streamDefinitions(topology, streamLimits(config)));
await ensureDatabaseExists(config.DATABASE_URL);
const db = createDb({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX, applicationName: 'chat-writer' });
await migrateToLatest(db.db, new Date());

let analytics: Analytics | undefined;

const writer = buildApp({
  logger,
  registry,
  messaging,
  topology,
  db,
  http: httpServerConfig(config),
  batch: {
    max: config.CHAT_BATCH_MAX,
    waitMs: config.CHAT_BATCH_WAIT_MS,
    concurrency: config.CHAT_WRITE_CONCURRENCY,
    method: config.CHAT_WRITE_METHOD,
  },
});

const shutdown = createShutdown(logger, [
  { name: 'http: refuse new work', run: () => writer.server.startDraining() },
  { name: 'consumers: finish batches in flight', run: () => writer.stop() },
  { name: 'http: close', run: () => writer.server.app.close() },
  { name: 'nats: drain', run: () => messaging.drain() },
  { name: 'postgres: end pool', run: () => db.close() },
  { name: 'clickhouse: close', run: () => analytics?.close() },
]);
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await writer.server.app.listen({ host: config.HOST, port: config.PORT });
await writer.startPostgres();
if (config.CLICKHOUSE_URL) {
  connectAnalyticsInBackground({
    url: config.CLICKHOUSE_URL,
    database: config.CLICKHOUSE_DATABASE,
    migrate: migrateAnalytics,
    async onReady(connected) {
      analytics = connected;
      logger.info({ database: config.CLICKHOUSE_DATABASE }, 'clickhouse ready');
      await writer.startClickHouse(connected);
    },
    onRetry: (error, attempt) =>
      logger.warn({ err: error, attempt }, 'clickhouse not reachable yet (its rows wait in the stream); retrying in 5 s'),
  });
} else {
  logger.warn('CLICKHOUSE_URL is empty: ClickHouse is off, chat goes to Postgres only');
}
