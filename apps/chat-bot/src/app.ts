import { chatToBotConsumer, eventsToBotConsumer, type Topology } from '@onair/contracts';
import type { Db } from '@onair/database';
import type { KickChatSender } from '@onair/kick-api';
import { createConsumerSet, type Messaging } from '@onair/messaging';
import { createHttpServer, createRateLimiter, startPeriodic, type HttpServer, type HttpServerConfig, type Logger, type Periodic } from '@onair/service-kit';
import type { SessionKeys } from '@onair/session';
import type { Registry } from 'prom-client';
import { createChatHandler, createEventsHandler } from './handlers';
import { createBotMetrics } from './metrics';
import { createOutbox, type BotIdentity } from './outbox';
import { registerRoutes } from './routes';

export interface ChatBotDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  db: Db;
  adminToken: string;
  session: SessionKeys;
  bot: BotIdentity;
  /** Kick replies; absent: none (clips are still made). */
  kickChat?: KickChatSender;
  kickReplies: { burst: number; perMinute: number };
  batch: { max: number; waitMs: number };
  outboxSweepMs: number;
  publishTimeoutMs: number;
  http?: HttpServerConfig;
  /** Clock of the session-token checks only; clips are placed by the messages' own times. */
  now?: () => number;
}

export interface ChatBot {
  server: HttpServer;
  /** Starts the consumers and the outbox sweep. Call once the app is ready. */
  start(): Promise<void>;
  /** Stops consuming (batches in flight finish) and the sweep. */
  stop(): Promise<void>;
}

/** Builds the chat bot without consuming or listening. */
export function buildApp(deps: ChatBotDeps): ChatBot {
  const metrics = createBotMetrics(deps.registry);
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    readiness: { nats: () => deps.messaging.connected, postgres: () => deps.db.ping() },
    ...deps.http,
  });
  registerRoutes(server.app, { db: deps.db.db, adminToken: deps.adminToken, session: deps.session, now: deps.now ?? Date.now });

  const outbox = createOutbox({
    db: deps.db.db,
    messaging: deps.messaging,
    topology: deps.topology,
    logger: deps.logger,
    metrics,
    bot: deps.bot,
    ...(deps.kickChat ? { kickChat: deps.kickChat } : {}),
    kickReplyLimiter: createRateLimiter({ burst: deps.kickReplies.burst, perSecond: deps.kickReplies.perMinute / 60 }),
    publishTimeoutMs: deps.publishTimeoutMs,
  });
  const consumers = createConsumerSet();
  let sweep: Periodic | undefined;
  const common = { messaging: deps.messaging, logger: deps.logger, registry: deps.registry, concurrency: 1 };

  return {
    server,
    async start() {
      const chat = chatToBotConsumer(deps.topology);
      await consumers.start({
        ...common,
        definition: chat,
        deadLetterSubject: deps.topology.deadLetter.subject(chat.durable),
        maxBatch: deps.batch.max,
        maxWaitMs: deps.batch.waitMs,
        handle: createChatHandler({ db: deps.db.db, outbox, metrics, bot: deps.bot }),
      });
      const events = eventsToBotConsumer(deps.topology);
      await consumers.start({
        ...common,
        definition: events,
        deadLetterSubject: deps.topology.deadLetter.subject(events.durable),
        maxBatch: 100,
        maxWaitMs: 20,
        handle: createEventsHandler({ db: deps.db.db }),
      });
      sweep = startPeriodic({
        name: 'bot-outbox-sweep',
        intervalMs: deps.outboxSweepMs,
        jitterMs: deps.outboxSweepMs / 5,
        logger: deps.logger,
        tick: async () => {
          const swept = await outbox.sweep();
          if (swept.clips + swept.replies > 0) deps.logger.info(swept, 'outbox sweep delivered what a crash or outage left behind');
        },
      });
    },
    async stop() {
      await sweep?.stop();
      await consumers.stop();
    },
  };
}
