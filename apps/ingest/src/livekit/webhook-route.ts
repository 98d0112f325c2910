import type { FastifyInstance } from 'fastify';
import { WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import { parseRoomId, type PlatformEvent } from '@onair/contracts';
import { HttpError } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';
import type { Publisher } from '../publisher';
import { rawBody } from '../json-body';

export interface LiveKitWebhookOptions {
  /** Absent: LiveKit is not configured and the route answers 503. */
  credentials?: { apiKey: string; apiSecret: string };
  publish: Publisher;
  registry: Registry;
  /**
   * Largest accepted difference between an event's `createdAt` and now, in ms. LiveKit's token may live
   * longer than this; the event's own time (covered by the signature through the body hash) bounds how
   * late a replay can come, and JetStream's duplicate window (≥ twice this) remembers every event id
   * for that long.
   */
  maxSkewMs: number;
  now: () => number;
}

const EVENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** LiveKit event names (`room_started`, `participant_joined`, …): they become a subject token. */
const EVENT_NAME = /^[a-z][a-z_]{0,47}$/;

/** What a room-state event carries of LiveKit's webhook: enough for a page, nothing of LiveKit's internals. */
export interface LiveKitRoomState {
  event: string;
  room: { sid: string; name: string; numParticipants: number };
  participant?: { sid: string; identity: string; name: string };
  track?: { sid: string; type: string; source: string };
  createdAt: number;
}

function roomState(event: WebhookEvent): LiveKitRoomState {
  return {
    event: event.event,
    room: { sid: event.room!.sid, name: event.room!.name, numParticipants: event.room!.numParticipants },
    ...(event.participant ? { participant: { sid: event.participant.sid, identity: event.participant.identity, name: event.participant.name } } : {}),
    ...(event.track ? { track: { sid: event.track.sid, type: String(event.track.type), source: String(event.track.source) } } : {}),
    createdAt: Number(event.createdAt),
  };
}

/**
 * `POST /webhooks/livekit`: LiveKit's webhooks (`room_started`, `participant_joined`, …) land at the
 * webhook edge like Kick's: one public surface that verifies and stores, and answers only once the event
 * is in JetStream. The gateway turns them into `room-state` events for the room's sockets.
 */
export function registerLiveKitWebhook(app: FastifyInstance, options: LiveKitWebhookOptions): void {
  const received = new Counter({
    name: 'ingest_livekit_webhooks_total',
    help: 'LiveKit webhooks by outcome: published, ignored (no room), or refused.',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  const receiver = options.credentials ? new WebhookReceiver(options.credentials.apiKey, options.credentials.apiSecret) : undefined;

  app.post('/webhooks/livekit', async (request, reply) => {
    if (!receiver) throw new HttpError(503, 'livekit_not_configured', 'LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not set');
    const authorization = request.headers['authorization'];
    if (typeof authorization !== 'string' || authorization.length === 0) {
      received.labels('refused').inc();
      throw new HttpError(401, 'missing_signature', 'Authorization header with the webhook token is required');
    }
    const raw = rawBody(request.body).toString('utf8');
    let event: WebhookEvent;
    try {
      // Verifies the token (HS256 with our API secret, issuer = our API key, not expired) and that its
      // sha256 claim is the hash of these exact bytes, then parses them.
      event = await receiver.receive(raw, authorization.replace(/^Bearer\s+/i, ''));
    } catch (error) {
      received.labels('refused').inc();
      // Our own codes and words only: the SDK's messages name its internals ("Key for the none algorithm…").
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new HttpError(401, 'expired_signature', 'The webhook token has expired');
      if (error instanceof SyntaxError) throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
      if (code?.startsWith('ERR_J') || /sha256|authorization|token|key|algorithm|signature/i.test((error as Error).message)) {
        throw new HttpError(401, 'invalid_signature', 'The webhook token does not match this body');
      }
      request.log.info({ err: error }, 'livekit webhook body refused');
      throw new HttpError(422, 'validation_failed', 'Body is not a LiveKit webhook event');
    }
    if (!EVENT_NAME.test(event.event) || !EVENT_ID.test(event.id)) {
      received.labels('refused').inc();
      throw new HttpError(422, 'validation_failed', 'A LiveKit webhook needs an event name and an id');
    }
    const createdAtMs = Number(event.createdAt) * 1000;
    if (!(createdAtMs > 0) || Math.abs(options.now() - createdAtMs) > options.maxSkewMs) {
      received.labels('refused').inc();
      throw new HttpError(401, 'stale_timestamp', 'The event createdAt is too far from now');
    }
    const room = event.room ? parseRoomId(event.room.name) : undefined;
    if (!event.room || !room) {
      // Egress and ingress events may carry no room we know: nothing to show, and refusing makes LiveKit retry.
      received.labels('ignored').inc();
      return reply.code(202).send({ accepted: true, duplicate: false, ignored: true });
    }
    if (room.platform !== 'onair') {
      // `kick-123` is Kick channel 123's room: LiveKit has no business there, and its room-state would reach
      // the Kick room's sockets. The gateway never grants such a room; a webhook naming one is refused.
      received.labels('refused').inc();
      throw new HttpError(422, 'platform_room', `Room ${event.room.name} is a platform channel's room, not a LiveKit room`);
    }
    const type = `livekit.${event.event}`;
    const message: PlatformEvent = {
      platform: 'onair',
      eventId: event.id,
      type,
      channelId: event.room.name,
      receivedAt: new Date(options.now()).toISOString(),
      data: roomState(event),
    };
    // LiveKit retries a webhook it thinks failed with the same event id: JetStream drops the repeat.
    const { duplicate } = await options.publish.event(message, `livekit:${event.id}`);
    received.labels('published').inc();
    return reply.code(202).send({ accepted: true, duplicate });
  });
}
