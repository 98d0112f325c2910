import { bootService } from '@onair/service-boot';
import { createRateLimiter, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseIngestConfig } from './config';
import { loadKickKey } from './kick/signature';

const config = loadConfigOrExit(() => parseIngestConfig(process.env));
const { logger, registry, topology, messaging, planShutdown } = await bootService({
  service: 'ingest',
  config,
  natsTimeoutMs: config.PUBLISH_TIMEOUT_MS,
});

const server = buildApp({
  logger,
  registry,
  messaging,
  topology,
  kickKey: loadKickKey(config.kickPublicKey),
  session: config.session,
  rateLimiter: createRateLimiter({ burst: config.ROOM_RATE_BURST, perSecond: config.ROOM_RATE_PER_S }),
  publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
  kickMaxSkewMs: config.KICK_MAX_SKEW_S * 1000,
  messageMaxSkewMs: config.MESSAGE_MAX_SKEW_S * 1000,
  http: httpServerConfig(config),
  ...(config.LIVEKIT_API_KEY ? { livekit: { apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET } } : {}),
});
if (!config.LIVEKIT_API_KEY) logger.warn('LIVEKIT_API_KEY not set: POST /webhooks/livekit answers 503');

const shutdown = planShutdown({ server });
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await server.app.listen({ host: config.HOST, port: config.PORT });
