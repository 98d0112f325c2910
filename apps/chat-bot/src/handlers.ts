import type { Kysely } from 'kysely';
import { ChatMessage, compileValidator, isKickEventType, PlatformEvent } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';
import { COMMAND_PREFIX_BYTE, parseClipCommand } from './command';
import { decideCommand } from './decide';
import { recordStreamEnd, recordStreamStart } from './live-streams';
import type { BotMetrics } from './metrics';
import type { BotIdentity, Outbox } from './outbox';
import { recordWebhookActivity, type ChannelWebhook } from './sql/record-webhook-activity';

const chatValidator = compileValidator(ChatMessage);
/** Deliveries for which a command with no known stream waits for the stream's start event. */
const STREAM_WAIT_DELIVERIES = 3;
const eventValidator = compileValidator(PlatformEvent);

export interface HandlerDeps {
  db: Kysely<any>;
  outbox: Outbox;
  metrics: BotMetrics;
  bot: BotIdentity;
}

/**
 * The chat consumer's handler. Most chat is not a command, so a message without a `!` byte is acked without
 * being decoded at all; the rest are decoded, and the commands among them decided one by one in stream order
 * (each its own transaction). Deliveries (the event, the reply) follow each commit. A database error throws:
 * the whole batch is naked with backoff, and what was already decided is recognised on redelivery.
 */
export function createChatHandler(deps: HandlerDeps) {
  return async function handleChat(batch: JsMsg[], context: BatchContext): Promise<void> {
    const candidates = batch.filter((msg) => msg.data.includes(COMMAND_PREFIX_BYTE));
    deps.metrics.messages.labels('chat').inc(batch.length - candidates.length);
    if (candidates.length === 0) return;
    for (const { msg, value: message } of await decodeBatch(candidates, chatValidator, context, 'ChatMessage')) {
      const command = parseClipCommand(message.content);
      if (!command) {
        deps.metrics.messages.labels('chat').inc();
        continue;
      }
      if (message.senderId === deps.bot.id && message.platform === 'onair') {
        deps.metrics.messages.labels('own').inc();
        continue;
      }
      deps.metrics.messages.labels('command').inc();
      // Up to STREAM_WAIT_DELIVERIES deliveries (~1 + 2 s of backoff), an unknown stream may be a start event
      // still on its way; after that the command is decided as "not live".
      const decision = await decideCommand(deps.db, message, command, { waitForStream: msg.info.deliveryCount < STREAM_WAIT_DELIVERIES });
      deps.metrics.commands.labels(decision.fresh ? decision.outcome : 'repeat').inc();
      if (!decision.fresh) continue;
      const key = { platform: message.platform, channelId: message.channelId, messageId: message.messageId };
      // Delivery failures are left to the sweep: the decision is committed and must not be redone.
      if (decision.clipId !== undefined) await deps.outbox.publishClip(decision.clipId, 'direct').catch(() => undefined);
      if (decision.reply) await deps.outbox.sendReply(key).catch(() => undefined);
    }
  };
}

/** Stream starts and ends, from Kick's `livestream.status.updated` and LiveKit's room events; the rest is skipped. */
/**
 * The events consumer's handler: stream starts and ends place clips; and every platform webhook in the batch
 * (Kick's events, LiveKit's room events) moves its streamer's last activity forward, once per batch.
 *
 * Webhook activity is recorded here because this consumer already reads the whole events stream, unfiltered,
 * with Postgres at hand: one more statement per batch, no new durable consumer, contract or process. The
 * gifts service reads only `kicks.gifted`; the gateway reads everything but has no Postgres; a consumer in
 * summary would be a fourth reader of the same stream for one UPDATE. Events the services publish
 * themselves (clips, gifts, presence counts) are not webhooks and do not count.
 */
export function createEventsHandler(deps: Pick<HandlerDeps, 'db'> & {
  /** Least gap, in ms, between a streamer's stored last activity and a newer webhook for it to move (30 s). */
  activityThrottleMs?: number;
}) {
  const throttleMs = deps.activityThrottleMs ?? 30_000;
  return async function handleEvents(batch: JsMsg[], context: BatchContext): Promise<void> {
    const webhooks = new Map<string, ChannelWebhook>();
    for (const { value: event } of await decodeBatch(batch, eventValidator, context, 'PlatformEvent')) {
      if (isWebhook(event)) {
        const key = `${event.platform}\u0000${event.channelId}`;
        const at = new Date(event.receivedAt);
        const seen = webhooks.get(key);
        if (!seen || seen.at < at) webhooks.set(key, { platform: event.platform, channelId: event.channelId, at });
      }
      const data = event.data as Record<string, unknown>;
      if (event.type === 'livestream.status.updated') {
        const startedAt = parseTime(data['started_at']) ?? new Date(event.receivedAt);
        if (data['is_live'] === true) await recordStreamStart(deps.db, event.platform, event.channelId, startedAt, 'kick-webhook');
        else if (data['is_live'] === false) await recordStreamEnd(deps.db, event.platform, event.channelId, parseTime(data['ended_at']) ?? new Date(event.receivedAt));
      } else if (event.type === 'livekit.room_started' || event.type === 'livekit.room_finished') {
        // LiveKit's createdAt (seconds) is when the room started or finished.
        const at = typeof data['createdAt'] === 'number' && data['createdAt'] > 0 ? new Date(data['createdAt'] * 1000) : new Date(event.receivedAt);
        if (event.type === 'livekit.room_started') await recordStreamStart(deps.db, event.platform, event.channelId, at, 'livekit');
        else await recordStreamEnd(deps.db, event.platform, event.channelId, at);
      }
    }
    await recordWebhookActivity(deps.db, [...webhooks.values()], throttleMs);
  };
}

/** Kick's webhooks (chat goes to the chat stream) and LiveKit's, as ingest publishes them. */
function isWebhook(event: PlatformEvent): boolean {
  return (event.platform === 'kick' && isKickEventType(event.type)) || (event.platform === 'onair' && event.type.startsWith('livekit.'));
}

function parseTime(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
