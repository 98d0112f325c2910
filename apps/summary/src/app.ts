import type { Analytics } from '@onair/analytics';
import type { Topology } from '@onair/contracts';
import type { Db } from '@onair/database';
import { createJobRunner, type JobRunner } from '@onair/jobs';
import type { Messaging } from '@onair/messaging';
import type { Notifier } from '@onair/notifier';
import { createHttpServer, startPeriodic, type HttpServer, type HttpServerConfig, type Logger, type Periodic } from '@onair/service-kit';
import type { Registry } from 'prom-client';
import { summaryJobs } from './jobs';
import { registerReadApi } from './read-api/routes';

export interface SummaryDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  db: Db;
  /** Set once ClickHouse is reachable; until then (or without it) summaries come from Postgres. */
  analytics?: () => Analytics | undefined;
  notifier?: Notifier;
  retentionDays: number;
  worker: string;
  /** Bearer token of the admin read API. */
  adminToken: string;
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
  /** The clock of the job schedules and partition jobs; the wall clock when absent (tests inject theirs). */
  now?: () => Date;
  /** ack_wait of the daily-summary job: how soon a day whose worker died is run again, in ms. Default 120 s. */
  dailySummaryAckWaitMs?: number;
}

export interface SummaryService {
  server: HttpServer;
  jobs: JobRunner;
  /** Starts the job workers and the enqueue tick. */
  start(options: { tickMs: number }): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the summary service without listening or running jobs. */
export function buildApp(deps: SummaryDeps): SummaryService {
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    readiness: { nats: () => deps.messaging.connected, postgres: () => deps.db.ping() },
    ...deps.http,
  });
  const now = deps.now ?? (() => new Date());
  const jobs = createJobRunner({
    messaging: deps.messaging,
    topology: deps.topology,
    db: deps.db.db,
    jobs: summaryJobs({
      db: deps.db.db,
      ...(deps.analytics ? { analytics: deps.analytics } : {}),
      ...(deps.notifier ? { notifier: deps.notifier } : {}),
      retentionDays: deps.retentionDays,
      now,
      worker: deps.worker,
      registry: deps.registry,
      ...(deps.dailySummaryAckWaitMs ? { dailySummaryAckWaitMs: deps.dailySummaryAckWaitMs } : {}),
    }),
    worker: deps.worker,
    logger: deps.logger,
    registry: deps.registry,
    now,
  });
  registerReadApi(server.app, { db: deps.db.db, adminToken: deps.adminToken });
  let tick: Periodic | undefined;
  return {
    server,
    jobs,
    async start(options) {
      await jobs.start();
      tick = startPeriodic({ name: 'job enqueue', tick: () => jobs.tick(), intervalMs: options.tickMs, jitterMs: options.tickMs / 10, logger: deps.logger });
    },
    async stop() {
      await tick?.stop();
      await jobs.stop();
    },
  };
}
