import { createTopology, streamDefinitions, streamLimits } from '@onair/contracts';
import { connectMessaging, ensureStreams } from '@onair/messaging';
import { createLogger, createMetricsRegistry, createShutdown, handleSignals, httpServerConfig, loadConfigOrExit } from '@onair/service-kit';
import { buildApp } from './app';
import { parseIngestConfig } from './config';
import { loadKickKey } from './kick/signature';
import { createRateLimiter } from '@onair/service-kit';

const config = loadConfigOrExit(() => parseIngestConfig(process.env));
const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL });
const registry = createMetricsRegistry('ingest');
const topology = createTopology(config.NATS_NAMESPACE);

const messaging = await connectMessaging({ url: config.NATS_URL, name: 'ingest', logger, timeoutMs: config.PUBLISH_TIMEOUT_MS });
await ensureStreams(messaging.jsm, streamDefinitions(topology, streamLimits(config)));

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

const shutdown = createShutdown(logger, [
  { name: 'http: refuse new work', run: () => server.startDraining() },
  { name: 'http: finish in-flight requests', run: () => server.app.close() },
  { name: 'nats: drain', run: () => messaging.drain() },
]);
handleSignals(shutdown, logger, config.SHUTDOWN_GRACE_MS);

await server.app.listen({ host: config.HOST, port: config.PORT });
