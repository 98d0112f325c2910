import type { Analytics } from '@onair/analytics';
import { chatToClickHouseConsumer, chatToPostgresConsumer, type Topology } from '@onair/contracts';
import type { Db } from '@onair/database';
import { createConsumerSet, type Messaging } from '@onair/messaging';
import { createHttpServer, type HttpServer, type HttpServerConfig, type Logger } from '@onair/service-kit';
import type { Registry } from 'prom-client';
import { createClickHouseSink } from './clickhouse-sink';
import { createWriterMetrics } from './metrics';
import { createPostgresSink } from './postgres-sink';

export interface ChatWriterDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  db: Db;
  batch: { max: number; waitMs: number; concurrency: number; method: 'unnest' | 'copy' };
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
}

export interface ChatWriter {
  server: HttpServer;
  /** Starts the Postgres consumer. Call once the app is ready. */
  startPostgres(): Promise<void>;
  /** Starts the ClickHouse consumer; independent of Postgres, so it may start later (ClickHouse down). */
  startClickHouse(analytics: Analytics): Promise<void>;
  /** Stops consuming; batches in flight finish and are acked first. */
  stop(): Promise<void>;
}

/** Builds chat-writer without starting to consume or listen. */
export function buildApp(deps: ChatWriterDeps): ChatWriter {
  const consumers = createConsumerSet();
  const metrics = createWriterMetrics(deps.registry);
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    readiness: {
      nats: () => deps.messaging.connected,
      postgres: () => deps.db.ping(),
    },
    ...deps.http,
  });
  const common = {
    messaging: deps.messaging,
    deadLetterSubject: '',
    logger: deps.logger,
    registry: deps.registry,
    maxBatch: deps.batch.max,
    maxWaitMs: deps.batch.waitMs,
    concurrency: deps.batch.concurrency,
  };

  return {
    server,
    async startPostgres() {
      const definition = chatToPostgresConsumer(deps.topology);
      await consumers.start({
        ...common,
        definition,
        deadLetterSubject: deps.topology.deadLetter.subject(definition.durable),
        handle: createPostgresSink({ db: deps.db.db, pool: deps.db.pool, method: deps.batch.method, metrics }),
      });
    },
    async startClickHouse(analytics) {
      const definition = chatToClickHouseConsumer(deps.topology);
      await consumers.start({
        ...common,
        definition,
        deadLetterSubject: deps.topology.deadLetter.subject(definition.durable),
        handle: createClickHouseSink(analytics, metrics),
      });
    },
    async stop() {
      await consumers.stop();
    },
  };
}
