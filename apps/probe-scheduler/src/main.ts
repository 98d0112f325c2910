import type { Analytics } from '@onair/analytics';
import { kickClientFromConfig } from '@onair/kick-api';
import { bootService, connectClickHouseInBackground } from '@onair/service-boot';
import { handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseProbeSchedulerConfig } from './config';

const config = loadConfigOrExit(() => parseProbeSchedulerConfig(process.env));
const { logger, registry, topology, messaging, db, planShutdown } = await bootService({
  service: 'probe-scheduler',
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX },
});

const kick = kickClientFromConfig(config, { registry, logger });

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
  // A peer misses three heartbeats (one per tick) before it stops being counted; a channel two ticks late
  // is anyone's (fair-share.ts).
  peerTimeoutMs: 3 * (config.PROBE_TICK_MS + config.PROBE_TICK_JITTER_MS),
  overdueMs: 2 * (config.PROBE_TICK_MS + config.PROBE_TICK_JITTER_MS),
  adminToken: config.ADMIN_TOKEN,
  http: httpServerConfig(config),
});

let analytics: Analytics | undefined;
const shutdown = planShutdown({
  server: scheduler.server,
  stop: { name: 'scheduler and consumer: finish the tick in progress', run: () => scheduler.stop() },
  closeLast: [{ name: 'clickhouse: close', run: () => analytics?.close() }],
});
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await scheduler.server.app.listen({ host: config.HOST, port: config.PORT });
scheduler.startLoop({ intervalMs: config.PROBE_TICK_MS, jitterMs: config.PROBE_TICK_JITTER_MS });
connectClickHouseInBackground({
  url: config.CLICKHOUSE_URL,
  database: config.CLICKHOUSE_DATABASE,
  logger,
  whenOff: 'CLICKHOUSE_URL is empty: ClickHouse is off, probes go to Postgres and NATS only',
  whileUnreachable: 'clickhouse not reachable yet (probes wait in the stream); retrying in 5 s',
  async onReady(connected) {
    analytics = connected;
    await scheduler.startClickHouse(connected);
  },
});
