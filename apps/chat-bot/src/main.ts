import { createTopology, streamDefinitions, streamLimits } from '@onair/contracts';
import { createDb, ensureDatabaseExists, migrateToLatest } from '@onair/database';
import { createKickChatSender } from '@onair/kick-api';
import { connectMessaging, ensureStreams } from '@onair/messaging';
import { createLogger, createMetricsRegistry, createShutdown, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseChatBotConfig } from './config';

const config = loadConfigOrExit(() => parseChatBotConfig(process.env));
const logger = createLogger({ service: 'chat-bot', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('chat-bot');
const topology = createTopology(config.NATS_NAMESPACE);

const messaging = await connectMessaging({ url: config.NATS_URL, name: 'chat-bot', logger });
await ensureStreams(messaging.jsm, streamDefinitions(topology, streamLimits(config)));
await ensureDatabaseExists(config.DATABASE_URL);
const db = createDb({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX, applicationName: 'chat-bot' });
await migrateToLatest(db.db, new Date());
if (!config.KICK_BOT_TOKEN) logger.warn('KICK_BOT_TOKEN not set: no replies in Kick chat (clips are still made)');

const bot = buildApp({
  logger,
  registry,
  messaging,
  topology,
  db,
  adminToken: config.ADMIN_TOKEN,
  session: config.session,
  bot: { id: config.BOT_USER_ID, name: config.BOT_NAME },
  ...(config.KICK_BOT_TOKEN ? { kickChat: createKickChatSender({ apiBase: config.KICK_API_BASE, token: config.KICK_BOT_TOKEN }) } : {}),
  kickReplies: { burst: config.KICK_REPLY_BURST, perMinute: config.KICK_REPLIES_PER_MIN },
  batch: { max: config.BOT_BATCH_MAX, waitMs: config.BOT_BATCH_WAIT_MS },
  outboxSweepMs: config.OUTBOX_SWEEP_MS,
  publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
  http: httpServerConfig(config),
});

const shutdown = createShutdown(logger, [
  { name: 'http: refuse new work', run: () => bot.server.startDraining() },
  { name: 'consumers: finish batches in flight', run: () => bot.stop() },
  { name: 'http: close', run: () => bot.server.app.close() },
  { name: 'nats: drain', run: () => messaging.drain() },
  { name: 'postgres: end pool', run: () => db.close() },
]);
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await bot.server.app.listen({ host: config.HOST, port: config.PORT });
await bot.start();
