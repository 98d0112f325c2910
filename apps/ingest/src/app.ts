import type { Messaging } from '@onair/messaging';
import type { Topology } from '@onair/contracts';
import { createHttpServer, HttpError, type HttpServer, type HttpServerConfig, type Logger } from '@onair/service-kit';
import type { Registry } from 'prom-client';
import type { SessionKeys } from '@onair/session';
import { registerKickWebhook } from './kick/webhook-route';
import type { KickKey } from './kick/signature';
import { registerLiveKitWebhook } from './livekit/webhook-route';
import { registerRoomMessages } from './rooms/messages-route';
import { createPublisher } from './publisher';
import type { RateLimiter } from '@onair/service-kit';

export interface IngestDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  kickKey: KickKey;
  session: SessionKeys;
  rateLimiter: RateLimiter;
  /** Milliseconds to wait for a PubAck before answering 503. */
  publishTimeoutMs: number;
  /** Largest accepted Kick webhook clock difference, in ms. */
  kickMaxSkewMs: number;
  /** Largest accepted difference between a LiveKit event's or a first-party message id's time and now, in ms. */
  messageMaxSkewMs: number;
  /** LiveKit API credentials that sign its webhooks; absent: the LiveKit webhook answers 503. */
  livekit?: { apiKey: string; apiSecret: string };
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/** Largest request body, in bytes. Kick's payloads are a few KB; chat content is 500 characters. */
export const BODY_LIMIT = 64 * 1024;

/** Builds the ingest HTTP service without listening. */
export function buildApp(deps: IngestDeps): HttpServer {
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    bodyLimit: BODY_LIMIT,
    readiness: { nats: () => deps.messaging.connected },
    ...deps.http,
  });
  const { app } = server;
  const now = deps.now ?? Date.now;

  // Webhook signatures cover the exact bytes: keep the body raw and parse JSON in the handler.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/(.+\+)?json$/, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', (request, _payload, done) =>
    done(new HttpError(415, 'unsupported_media_type', `Content-Type ${request.headers['content-type'] ?? '(none)'} is not JSON`), undefined),
  );

  const publish = createPublisher(deps.messaging, deps.topology, deps.registry, deps.publishTimeoutMs);
  registerKickWebhook(app, {
    key: deps.kickKey,
    publish,
    registry: deps.registry,
    maxSkewMs: deps.kickMaxSkewMs,
    now,
  });
  registerLiveKitWebhook(app, {
    ...(deps.livekit ? { credentials: deps.livekit } : {}),
    publish,
    registry: deps.registry,
    maxSkewMs: deps.messageMaxSkewMs,
    now,
  });
  registerRoomMessages(app, {
    publish,
    maxSkewMs: deps.messageMaxSkewMs,
    session: deps.session,
    rateLimiter: deps.rateLimiter,
    now,
  });
  return server;
}
