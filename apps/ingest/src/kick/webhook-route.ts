import type { FastifyInstance } from 'fastify';
import {
  compileValidator,
  isKickEventType,
  KickChatMessageSent,
  KickEventPayloads,
  type ChatMessage,
  type KickEventType,
  type SenderRole,
  type PlatformEvent,
  type Validator,
} from '@onair/contracts';
import { HttpError } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';
import type { Publisher } from '../publisher';
import { parseJsonBody, rawBody } from '../json-body';
import { parseKickTimestamp, verifyKickSignature, type KickKey } from './signature';

export interface KickWebhookOptions {
  key: KickKey;
  publish: Publisher;
  registry: Registry;
  /** Largest accepted difference between the message timestamp and now, in ms. */
  maxSkewMs: number;
  now: () => number;
}

const REQUIRED_HEADERS = [
  'kick-event-message-id',
  'kick-event-message-timestamp',
  'kick-event-signature',
  'kick-event-type',
] as const;

const MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const chatValidator = compileValidator(KickChatMessageSent);
const eventValidators = Object.fromEntries(
  Object.entries(KickEventPayloads).map(([type, schema]) => [type, compileValidator(schema)]),
) as unknown as Record<KickEventType, Validator<{ broadcaster: { user_id: number } }>>;

/** `POST /webhooks/kick`: verify, validate, store in JetStream, then answer 202. */
export function registerKickWebhook(app: FastifyInstance, options: KickWebhookOptions): void {
  const received = new Counter({
    name: 'ingest_kick_webhooks_total',
    help: 'Kick webhooks by outcome: chat, event, unknown_type (answered 202, not published), or refused.',
    labelNames: ['outcome'],
    registers: [options.registry],
  });

  app.post('/webhooks/kick', async (request, reply) => {
    const headers = request.headers;
    for (const name of REQUIRED_HEADERS) {
      const value = headers[name];
      if (typeof value !== 'string' || value.length === 0) {
        received.labels('refused').inc();
        throw new HttpError(400, 'missing_header', `Header ${name} is required`);
      }
    }
    const messageId = headers['kick-event-message-id'] as string;
    const timestamp = headers['kick-event-message-timestamp'] as string;
    const eventType = headers['kick-event-type'] as string;
    if (!MESSAGE_ID.test(messageId)) {
      received.labels('refused').inc();
      throw new HttpError(400, 'invalid_header', 'Header kick-event-message-id is not a valid id');
    }
    const sentMs = parseKickTimestamp(timestamp);
    if (sentMs === undefined) {
      received.labels('refused').inc();
      throw new HttpError(400, 'invalid_header', 'Header kick-event-message-timestamp is not a timestamp');
    }
    const raw = rawBody(request.body);
    if (!(await verifyKickSignature(options.key, messageId, timestamp, raw, headers['kick-event-signature'] as string))) {
      received.labels('refused').inc();
      throw new HttpError(401, 'invalid_signature', 'Kick-Event-Signature does not match the message');
    }
    // Checked after the signature so the timestamp itself is known to be Kick's: a replay of an old,
    // correctly signed message is what this refuses.
    if (Math.abs(options.now() - sentMs) > options.maxSkewMs) {
      received.labels('refused').inc();
      throw new HttpError(401, 'stale_timestamp', 'Kick-Event-Message-Timestamp is too far from now');
    }
    const body = parseJsonBody(raw);
    const receivedAt = new Date(options.now()).toISOString();

    if (eventType === 'chat.message.sent') {
      if (!chatValidator.check(body)) {
        received.labels('refused').inc();
        throw new HttpError(422, 'validation_failed', `Invalid chat.message.sent: ${chatValidator.firstError(body)}`);
      }
      const message: ChatMessage = {
        platform: 'kick',
        messageId: body.message_id,
        channelId: String(body.broadcaster.user_id),
        senderId: String(body.sender.user_id),
        senderUsername: body.sender.username,
        content: body.content,
        sentAt: new Date(body.created_at ? Date.parse(body.created_at) : sentMs).toISOString(),
        receivedAt,
        ...(body.replies_to?.message_id ? { repliesTo: body.replies_to.message_id } : {}),
        ...senderRoles(body.sender.identity?.badges),
      };
      // The webhook id is the msgID on both paths: JetStream remembers it for DEDUPE_WINDOW_S, which ingest's
      // config keeps at least twice KICK_MAX_SKEW_S, so a replay that still passes the timestamp check is
      // always recognised (and a later one is refused as stale above).
      const { duplicate } = await options.publish.chat(message, `kick:${messageId}`);
      received.labels('chat').inc();
      return reply.code(202).send({ accepted: true, duplicate });
    }

    if (!isKickEventType(eventType)) {
      // Kick adds event types over time; refusing them would make Kick retry forever.
      received.labels('unknown_type').inc();
      request.log.info({ eventType }, 'kick event type not handled: acknowledged, not published');
      return reply.code(202).send({ accepted: true, duplicate: false, ignored: true });
    }
    const validator = eventValidators[eventType];
    if (!validator.check(body)) {
      received.labels('refused').inc();
      throw new HttpError(422, 'validation_failed', `Invalid ${eventType}: ${validator.firstError(body)}`);
    }
    const event: PlatformEvent = {
      platform: 'kick',
      eventId: messageId,
      type: eventType,
      channelId: String(body.broadcaster.user_id),
      receivedAt,
      data: body,
    };
    const { duplicate } = await options.publish.event(event, `kick:${messageId}`);
    received.labels('event').inc();
    return reply.code(202).send({ accepted: true, duplicate });
  });
}

/** Kick's identity badges that matter to chat rules, as roles (other badges — vip, og, subscriber — do not). */
function senderRoles(badges: { type: string }[] | undefined): Pick<ChatMessage, 'senderRoles'> {
  const roles = new Set<SenderRole>();
  for (const badge of badges ?? []) if (badge.type === 'broadcaster' || badge.type === 'moderator') roles.add(badge.type);
  return roles.size > 0 ? { senderRoles: [...roles] } : {};
}
