import type { Analytics } from '@onair/analytics';
import { kickClientFromConfig } from '@onair/kick-api';
import { createTelegramNotifier } from '@onair/notifier';
import { bootService, connectClickHouseInBackground } from '@onair/service-boot';
import { handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseSummaryConfig } from './config';

const config = loadConfigOrExit(() => parseSummaryConfig(process.env));
const { logger, registry, topology, messaging, db, planShutdown } = await bootService({
  service: 'summary',
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX },
});

const notifier =
  config.TELEGRAM_BOT_TOKEN && config.TELEGRAM_CHAT_ID
    ? createTelegramNotifier({ apiBase: config.TELEGRAM_API_BASE, botToken: config.TELEGRAM_BOT_TOKEN, chatId: config.TELEGRAM_CHAT_ID, registry, logger })
    : undefined;
if (!notifier) logger.warn('TELEGRAM_BOT_TOKEN / TELEGRAM_CHAT_ID not set: daily summaries are stored but not sent');

// The app access token (client credentials) is all onboarding needs: Kick lets an app subscribe to any
// channel's events by broadcaster_user_id with it, so streamers never go through an OAuth connect flow.
const kick = kickClientFromConfig(config, { registry, logger });
if (!kick) logger.warn('KICK_CLIENT_ID / KICK_CLIENT_SECRET not set: no onboarding, no subscription reconcile or webhook watchdog');

let analytics: Analytics | undefined;
const service = buildApp({
  logger,
  registry,
  messaging,
  topology,
  db,
  analytics: () => analytics,
  ...(notifier ? { notifier } : {}),
  retentionDays: config.RETENTION_DAYS,
  worker: config.WORKER_ID,
  adminToken: config.ADMIN_TOKEN,
  ...(kick ? { kick } : {}),
  webhookWatchdog: { silenceMs: config.KICK_WEBHOOK_SILENCE_MINUTES * 60_000, minViewers: config.KICK_WEBHOOK_MIN_VIEWERS },
  http: httpServerConfig(config),
  dailySummaryAckWaitMs: config.DAILY_SUMMARY_ACK_WAIT_MS,
  console: { ...(config.CONSOLE_GATEWAY_URL ? { gatewayUrl: config.CONSOLE_GATEWAY_URL } : {}), sessionTtlMs: config.CONSOLE_SESSION_HOURS * 3_600_000 },
});

const shutdown = planShutdown({
  server: service.server,
  stop: { name: 'jobs: finish the job in progress', run: () => service.stop() },
  closeLast: [{ name: 'clickhouse: close', run: () => analytics?.close() }],
});
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await service.server.app.listen({ host: config.HOST, port: config.PORT });
connectClickHouseInBackground({
  url: config.CLICKHOUSE_URL,
  database: config.CLICKHOUSE_DATABASE,
  logger,
  whenOff: 'CLICKHOUSE_URL is empty: summaries are computed in Postgres',
  whileUnreachable: 'clickhouse not reachable yet: summaries use Postgres meanwhile',
  async onReady(connected) {
    analytics = connected;
    logger.info('clickhouse ready: summaries are computed there');
  },
});
await service.start({ tickMs: config.JOB_TICK_MS });
