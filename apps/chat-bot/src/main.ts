import { createKickChatSender } from '@onair/kick-api';
import { bootService } from '@onair/service-boot';
import { handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseChatBotConfig } from './config';

const config = loadConfigOrExit(() => parseChatBotConfig(process.env));
const { logger, registry, topology, messaging, db, planShutdown } = await bootService({
  service: 'chat-bot',
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX },
});

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

const shutdown = planShutdown({
  server: bot.server,
  stop: { name: 'consumers: finish batches in flight', run: () => bot.stop() },
});
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await bot.server.app.listen({ host: config.HOST, port: config.PORT });
await bot.start();
