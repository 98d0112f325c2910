import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Pusher from 'pusher';
import { bootService } from '@onair/service-boot';
import { createRateLimiter, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseGatewayConfig } from './config';

const config = loadConfigOrExit(() => parseGatewayConfig(process.env));
const { logger, registry, topology, messaging, db, planShutdown } = await bootService({
  service: 'realtime-gateway',
  config,
  postgres: { url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX },
});

const pusher = new Pusher({
  appId: config.PUSHER_APP_ID,
  key: config.PUSHER_APP_KEY,
  secret: config.PUSHER_APP_SECRET,
  host: config.PUSHER_HOST,
  port: String(config.PUSHER_PORT),
  useTLS: config.PUSHER_USE_TLS,
  // One connection per trigger (the SDK's default) costs a TCP handshake for every batch on both sides.
  agent: config.PUSHER_USE_TLS ? new HttpsAgent({ keepAlive: true, maxSockets: 16 }) : new HttpAgent({ keepAlive: true, maxSockets: 16 }),
});
if (!config.LIVEKIT_API_KEY) logger.warn('LIVEKIT_API_KEY not set: /v1/rooms/:roomId/join answers 503');

const gateway = buildApp({
  logger,
  registry,
  messaging,
  topology,
  pusher,
  session: config.session,
  rateLimiter: createRateLimiter({ burst: config.AUTH_RATE_BURST, perSecond: config.AUTH_RATE_PER_S }),
  historyRateLimiter: createRateLimiter({ burst: config.HISTORY_RATE_BURST, perSecond: config.HISTORY_RATE_PER_S }),
  historyTail: { perRoom: config.HISTORY_TAIL_PER_ROOM, rooms: config.HISTORY_TAIL_ROOMS },
  http: httpServerConfig(config),
  coalesceWindowMs: config.COALESCE_WINDOW_MS,
  pusherApp: { key: config.PUSHER_APP_KEY, secret: config.PUSHER_APP_SECRET },
  presenceWindowMs: config.PRESENCE_WINDOW_MS,
  page: {
    pusher: {
      key: config.PUSHER_APP_KEY,
      wsHost: config.PUSHER_WS_HOST || config.PUSHER_HOST,
      wsPort: config.PUSHER_WS_PORT || config.PUSHER_PORT,
      forceTLS: config.PUSHER_USE_TLS,
    },
  },
  db,
  gifts: { url: config.GIFTS_URL, timeoutMs: config.GIFTS_TIMEOUT_MS },
  leaderboardIntervalMs: config.LEADERBOARD_INTERVAL_MS,
  ...(config.LIVEKIT_API_KEY
    ? { livekit: { url: config.LIVEKIT_URL, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET, ttlS: config.LIVEKIT_TOKEN_TTL_S } }
    : {}),
});

const shutdown = planShutdown({
  server: gateway.server,
  stop: { name: 'fan-out: send what is gathered', run: () => gateway.stop() },
});
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await gateway.server.app.listen({ host: config.HOST, port: config.PORT });
await gateway.start();
