import { createTopology, streamDefinitions, streamLimits, type Topology } from '@onair/contracts';
import { createDb, ensureDatabaseExists, migrateToLatest, type Db } from '@onair/database';
import { connectMessaging, ensureStreams, type Messaging } from '@onair/messaging';
import { createLogger, createMetricsRegistry, createShutdown, type HttpServer, type Logger, type Shutdown, type ShutdownStep } from '@onair/service-kit';
import type { Registry } from 'prom-client';

/** What the boot reads from a service's parsed `commonConfig()`. */
export interface BootConfig {
  LOG_LEVEL: string;
  /** The server, or a cluster's servers (a list, or one comma-separated string). */
  NATS_URL: string | readonly string[];
  NATS_NAMESPACE: string;
  /** Copies of every stream (`num_replicas`); applied to existing streams too. */
  NATS_STREAM_REPLICAS: number;
  CHAT_MAX_AGE_HOURS: number;
  CHAT_MAX_BYTES: number;
  DEDUPE_WINDOW_S: number;
}

export interface PostgresBootOptions {
  /** `DATABASE_URL`; the database is created when missing, then migrated to the latest schema. */
  url: string;
  /** Connections this process may hold (`DB_POOL_MAX`). */
  poolMax: number;
}

export interface BootOptions {
  /** The service's name: on every log line and metric, and as its NATS and Postgres connection name. */
  service: string;
  /** The parsed config (the caller parsed `process.env`; the boot never reads it). */
  config: BootConfig;
  /** Milliseconds NATS waits for a PubAck or API reply (the messaging default, 5 s, when unset). */
  natsTimeoutMs?: number;
  /** Present for services that use Postgres. */
  postgres?: PostgresBootOptions;
}

/** The order a service stops in; the boot adds its own connections' closing after these. */
export interface ShutdownPlan {
  /** The service's HTTP server: it answers 503 first and closes after `stop`. */
  server: HttpServer;
  /** The service's own stop (consumers finish their batches, loops their tick), between 503 and HTTP close. */
  stop?: ShutdownStep;
  /** Closed last, after NATS drains and the Postgres pool ends (e.g. ClickHouse). */
  closeLast?: ShutdownStep[];
}

export interface BootedService {
  logger: Logger;
  registry: Registry;
  topology: Topology;
  messaging: Messaging;
  /**
   * The graceful stop: HTTP refuses new work (503) → `stop` → HTTP closes → NATS drains → the Postgres pool
   * ends → `closeLast`. Install it with service-kit's `handleSignals` in `main.ts`.
   */
  planShutdown(plan: ShutdownPlan): Shutdown;
}

/**
 * What every service does before its own parts: logger, metrics registry and topology from the config;
 * NATS connected and the streams ensured; with `postgres`, the database created if missing, a pool opened
 * and the schema migrated. Installs no signal handlers and reads no environment.
 */
export function bootService(options: BootOptions & { postgres: PostgresBootOptions }): Promise<BootedService & { db: Db }>;
export function bootService(options: BootOptions & { postgres?: undefined }): Promise<BootedService>;
export async function bootService(options: BootOptions): Promise<BootedService & { db?: Db }> {
  const { service, config } = options;
  const logger = createLogger({ service, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry(service);
  const topology = createTopology(config.NATS_NAMESPACE);

  const messaging = await connectMessaging({
    url: config.NATS_URL,
    name: service,
    logger,
    ...(options.natsTimeoutMs === undefined ? {} : { timeoutMs: options.natsTimeoutMs }),
  });
  await ensureStreams(messaging.jsm, streamDefinitions(topology, streamLimits(config)));

  const db = options.postgres ? await openPostgres(service, options.postgres) : undefined;

  const planShutdown = ({ server, stop, closeLast = [] }: ShutdownPlan): Shutdown =>
    createShutdown(logger, [
      { name: 'http: refuse new work', run: () => server.startDraining() },
      ...(stop ? [stop] : []),
      // Without a stop of its own, closing HTTP is where the service's work in flight finishes.
      { name: stop ? 'http: close' : 'http: finish in-flight requests', run: () => server.app.close() },
      { name: 'nats: drain', run: () => messaging.drain() },
      ...(db ? [{ name: 'postgres: end pool', run: () => db.close() }] : []),
      ...closeLast,
    ]);

  return { logger, registry, topology, messaging, ...(db ? { db } : {}), planShutdown };
}

async function openPostgres(service: string, options: PostgresBootOptions): Promise<Db> {
  await ensureDatabaseExists(options.url);
  const db = createDb({ url: options.url, poolMax: options.poolMax, applicationName: service });
  await migrateToLatest(db.db, new Date());
  return db;
}
