import { kickGiftsConsumer, type Topology } from '@onair/contracts';
import type { Db } from '@onair/database';
import { createConsumerSet, type Messaging } from '@onair/messaging';
import { createHttpServer, createRateLimiter, startPeriodic, type HttpServer, type HttpServerConfig, type Logger, type Periodic } from '@onair/service-kit';
import type { SessionKeys } from '@onair/session';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createKickGiftsHandler } from './kick-gifts';
import { checkLedger, foldCredits } from './ledger';
import { createGiftOutbox } from './outbox';
import { registerRoutes } from './routes';

export interface GiftsDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  db: Db;
  adminToken: string;
  session: SessionKeys;
  paymentWebhookSecret?: string;
  feeBps: number;
  rate: { burst: number; perSecond: number };
  foldIntervalMs: number;
  outboxSweepMs: number;
  publishTimeoutMs: number;
  http?: HttpServerConfig;
  now?: () => number;
}

export interface Gifts {
  server: HttpServer;
  /** Starts the Kick gifts consumer, the fold and the outbox sweep. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the gifts service without listening or consuming. */
export function buildApp(deps: GiftsDeps): Gifts {
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    readiness: { nats: () => deps.messaging.connected, postgres: () => deps.db.ping() },
    ...deps.http,
  });
  const published = new Counter({ name: 'gifts_published_total', help: 'Gift events stored in JetStream, by path (direct, sweep).', labelNames: ['path'], registers: [deps.registry] });
  const folded = new Counter({ name: 'gifts_credits_folded_total', help: 'Ledger credits folded into wallets.', registers: [deps.registry] });
  const imbalance = new Gauge({
    name: 'gifts_ledger_imbalance',
    help: 'Problems the last ledger check found (entries not summing to zero, wallets differing from their entries); 0 when sound.',
    registers: [deps.registry],
  });
  const outbox = createGiftOutbox({ db: deps.db.db, messaging: deps.messaging, topology: deps.topology, publishTimeoutMs: deps.publishTimeoutMs, published });
  registerRoutes(server.app, {
    db: deps.db.db,
    outbox,
    session: deps.session,
    adminToken: deps.adminToken,
    ...(deps.paymentWebhookSecret ? { paymentWebhookSecret: deps.paymentWebhookSecret } : {}),
    rateLimiter: createRateLimiter({ burst: deps.rate.burst, perSecond: deps.rate.perSecond }),
    feeBps: deps.feeBps,
    now: deps.now ?? Date.now,
  });
  const consumers = createConsumerSet();
  const loops: Periodic[] = [];
  return {
    server,
    async start() {
      const kick = kickGiftsConsumer(deps.topology);
      await consumers.start({
        messaging: deps.messaging,
        definition: kick,
        deadLetterSubject: deps.topology.deadLetter.subject(kick.durable),
        logger: deps.logger,
        registry: deps.registry,
        maxBatch: 100,
        maxWaitMs: 20,
        concurrency: 1,
        handle: createKickGiftsHandler({ db: deps.db.db }),
      });
      loops.push(
        startPeriodic({
          name: 'gifts-fold',
          intervalMs: deps.foldIntervalMs,
          jitterMs: deps.foldIntervalMs / 5,
          logger: deps.logger,
          tick: async () => folded.inc(await foldCredits(deps.db.db)),
        }),
        startPeriodic({
          name: 'gifts-outbox-sweep',
          intervalMs: deps.outboxSweepMs,
          jitterMs: deps.outboxSweepMs / 5,
          logger: deps.logger,
          tick: async () => {
            const sent = await outbox.sweep();
            if (sent > 0) deps.logger.info({ sent }, 'outbox sweep published gifts a crash or an outage left behind');
          },
        }),
        // The ledger proves itself: every transaction sums to zero, every wallet matches its entries.
        startPeriodic({
          name: 'gifts-ledger-check',
          intervalMs: 300_000,
          jitterMs: 60_000,
          logger: deps.logger,
          tick: async () => {
            const check = await checkLedger(deps.db.db);
            const problems = (check.total === 0 ? 0 : 1) + check.unbalancedTxns.length + check.walletMismatches.length;
            imbalance.set(problems);
            if (problems > 0) deps.logger.error({ check }, 'ledger check found problems');
          },
        }),
      );
    },
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
      await consumers.stop();
    },
  };
}
