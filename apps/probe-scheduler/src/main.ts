import { connectAnalyticsInBackground, migrateAnalytics, type Analytics } from '@onair/analytics';
import { createTopology, streamDefinitions, streamLimits } from '@onair/contracts';
import { createDb, ensureDatabaseExists, migrateToLatest } from '@onair/database';
import { createKickClient } from '@onair/kick-api';
import { connectMessaging, ensureStreams } from '@onair/messaging';
import { createLogger, createMetricsRegistry, createShutdown, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseProbeSchedulerConfig } from './config';

const config = loadConfigOrExit(() => parseProbeSchedulerConfig(process.env));
const logger = createLogger({ service: 'probe-scheduler', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('probe-scheduler');
const topology = createTopology(config.NATS_NAMESPACE);
const messaging = await connectMessaging({ url: config.NATS_URL, name: 'probe-scheduler', logger });
await ensureStreams(messaging.jsm, streamDefinitions(topology, streamLimits(config)));
await ensureDatabaseExists(config.DATABASE_URL);
const db = createDb({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX, applicationName: 'probe-scheduler' });
await migrateToLatest(db.db, new Date());

const kick =
  config.KICK_CLIENT_ID && config.KICK_CLIENT_SECRET
    ? createKickClient({
        apiBase: config.KICK_API_BASE,
        oauthBase: config.KICK_OAUTH_BASE,
        clientId: config.KICK_CLIENT_ID,
        clientSecret: config.KICK_CLIENT_SECRET,
        registry,
        logger,
      })
    : undefined;

const scheduler = buildApp({
  logger,
  registry,
  messaging,
  topology,
  db,
  ...(kick ? { kick } : {}),
  replica: config.REPLICA_ID,
  claimLimit: config.PROBE_CLAIM_LIMIT,
  holdMs: config.PROBE_HOLD_MS,
  adminToken: config.ADMIN_TOKEN,
  http: httpServerConfig(config),
});

let analytics: Analytics | undefined;
const shutdown = createShutdown(logger, [
  { name: 'http: refuse new work', run: () => scheduler.server.startDraining() },
  { name: 'scheduler and consumer: finish the tick in progress', run: () => scheduler.stop() },
  { name: 'http: close', run: () => scheduler.server.app.close() },
  { name: 'nats: drain', run: () => messaging.drain() },
  { name: 'postgres: end pool', run: () => db.close() },
  { name: 'clickhouse: close', run: () => analytics?.close() },
]);
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await scheduler.server.app.listen({ host: config.HOST, port: config.PORT });
scheduler.startLoop({ intervalMs: config.PROBE_TICK_MS, jitterMs: config.PROBE_TICK_JITTER_MS });
if (config.CLICKHOUSE_URL) {
  connectAnalyticsInBackground({
    url: config.CLICKHOUSE_URL,
    database: config.CLICKHOUSE_DATABASE,
    migrate: migrateAnalytics,
    async onReady(connected) {
      analytics = connected;
      await scheduler.startClickHouse(connected);
    },
    onRetry: (error, attempt) =>
      logger.warn({ err: error, attempt }, 'clickhouse not reachable yet (probes wait in the stream); retrying in 5 s'),
  });
} else {
  logger.warn('CLICKHOUSE_URL is empty: ClickHouse is off, probes go to Postgres and NATS only');
}
