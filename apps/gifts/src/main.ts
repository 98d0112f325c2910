import { bootService } from '@onair/service-boot';
import { handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseGiftsConfig } from './config';

const config = loadConfigOrExit(() => parseGiftsConfig(process.env));
const { logger, registry, topology, messaging, db, planShutdown } = await bootService({
  service: 'gifts',
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX },
});
if (!config.PAYMENT_WEBHOOK_SECRET) logger.warn('PAYMENT_WEBHOOK_SECRET not set: the payment webhook answers 503 (grants still work)');

const gifts = buildApp({
  logger,
  registry,
  messaging,
  topology,
  db,
  adminToken: config.ADMIN_TOKEN,
  session: config.session,
  ...(config.PAYMENT_WEBHOOK_SECRET ? { paymentWebhookSecret: config.PAYMENT_WEBHOOK_SECRET } : {}),
  feeBps: config.GIFT_FEE_BPS,
  rate: { burst: config.GIFT_RATE_BURST, perSecond: config.GIFT_RATE_PER_S },
  foldIntervalMs: config.FOLD_INTERVAL_MS,
  outboxSweepMs: config.OUTBOX_SWEEP_MS,
  publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
  http: httpServerConfig(config),
});

const shutdown = planShutdown({
  server: gifts.server,
  stop: { name: 'consumer, fold and sweep: finish the work in progress', run: () => gifts.stop() },
});
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await gifts.server.app.listen({ host: config.HOST, port: config.PORT });
await gifts.start();
