import type { Analytics } from '@onair/analytics';
import { bootService, connectClickHouseInBackground } from '@onair/service-boot';
import { handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseChatWriterConfig } from './config';

const config = loadConfigOrExit(() => parseChatWriterConfig(process.env));
const { logger, registry, topology, messaging, db, planShutdown } = await bootService({
  service: 'chat-writer',
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX },
});

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

const shutdown = planShutdown({
  server: writer.server,
  stop: { name: 'consumers: finish batches in flight', run: () => writer.stop() },
  closeLast: [{ name: 'clickhouse: close', run: () => analytics?.close() }],
});
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await writer.server.app.listen({ host: config.HOST, port: config.PORT });
await writer.startPostgres();
connectClickHouseInBackground({
  url: config.CLICKHOUSE_URL,
  database: config.CLICKHOUSE_DATABASE,
  logger,
  whenOff: 'CLICKHOUSE_URL is empty: ClickHouse is off, chat goes to Postgres only',
  whileUnreachable: 'clickhouse not reachable yet (its rows wait in the stream); retrying in 5 s',
  async onReady(connected) {
    analytics = connected;
    logger.info({ database: config.CLICKHOUSE_DATABASE }, 'clickhouse ready');
    await writer.startClickHouse(connected);
  },
});
