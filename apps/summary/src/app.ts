import type { Analytics } from '@onair/analytics';
import type { Topology } from '@onair/contracts';
import type { Db } from '@onair/database';
import { createJobRunner, type JobRunner } from '@onair/jobs';
import type { KickClient } from '@onair/kick-api';
import type { Messaging } from '@onair/messaging';
import type { Notifier } from '@onair/notifier';
import { createHttpServer, startPeriodic, type HttpServer, type HttpServerConfig, type Logger, type Periodic } from '@onair/service-kit';
import type { Registry } from 'prom-client';
import { registerAuditRoutes } from './audit/routes';
import { registerConsole } from './console/routes';
import { createConsoleSessions } from './console/sessions';
import { summaryJobs } from './jobs';
import { RECONCILE_JOB } from './kick-subscriptions/jobs';
import { createSubscriptionMetrics } from './kick-subscriptions/metrics';
import { registerOnboardingRoutes } from './onboarding/routes';
import { registerOperatorRoutes } from './operators/routes';
import { registerReadApi } from './read-api/routes';
import { registerRerunRoutes } from './rerun/routes';

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
  /** Admin bearer token of the API (also what creates the first operator; see README "Operators"). */
  adminToken: string;
  /**
   * Kick's API with the app's client credentials: onboarding, the subscription reconciler and the
   * delivery watchdog. Absent: onboarding answers 503 and those jobs do not run.
   */
  kick?: KickClient;
  /** The delivery watchdog: silence window in ms (default 15 min) and the viewer floor (default 20). */
  webhookWatchdog?: { silenceMs: number; minViewers: number };
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
  /** The clock of the job schedules and partition jobs; the wall clock when absent (tests inject theirs). */
  now?: () => Date;
  /** ack_wait of the daily-summary job: how soon a day whose worker died is run again, in ms. Default 120 s. */
  dailySummaryAckWaitMs?: number;
  /** The operators' console: the gateway's public URL (its chat tail) and how long a sign-in lasts (default 12 h). */
  console?: { gatewayUrl?: string; sessionTtlMs?: number };
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
  const subscriptionMetrics = createSubscriptionMetrics(deps.registry, deps.db.db);
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
      ...(deps.kick
        ? {
            kickSubscriptions: {
              db: deps.db.db,
              kick: deps.kick,
              metrics: subscriptionMetrics,
              now,
              silenceMs: deps.webhookWatchdog?.silenceMs ?? 15 * 60_000,
              minViewers: deps.webhookWatchdog?.minViewers ?? 20,
            },
          }
        : {}),
    }),
    worker: deps.worker,
    logger: deps.logger,
    registry: deps.registry,
    now,
  });
  const sessions = createConsoleSessions({ db: deps.db.db, adminToken: deps.adminToken, ttlMs: deps.console?.sessionTtlMs ?? 12 * 3_600_000, now });
  registerConsole(server.app, { sessions, now, ...(deps.console?.gatewayUrl ? { gatewayUrl: deps.console.gatewayUrl } : {}) });
  registerReadApi(server.app, {
    db: deps.db.db,
    adminToken: deps.adminToken,
    session: (request) => sessions.principalOf(request),
    now,
    routes(api) {
      registerOperatorRoutes(api, { db: deps.db.db, now });
      registerAuditRoutes(api, { db: deps.db.db });
      registerOnboardingRoutes(api, {
        db: deps.db.db,
        ...(deps.kick ? { kick: deps.kick } : {}),
        metrics: subscriptionMetrics,
        now,
        requestReconcile: (periodKey) => (deps.kick ? jobs.enqueue(RECONCILE_JOB, periodKey) : Promise.resolve()),
      });
      registerRerunRoutes(api, { db: deps.db.db, now, retentionDays: deps.retentionDays, canNotify: deps.notifier !== undefined, enqueue: jobs.enqueue });
    },
  });
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
