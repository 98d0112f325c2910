import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ChatMessage, PlatformEvent, Topology } from '@onair/contracts';
import type { KickChatSender } from '@onair/kick-api';
import { publishStored, type Messaging } from '@onair/messaging';
import type { Logger, RateLimiter } from '@onair/service-kit';
import { clipView, type ClipRow } from './clip-view';
import type { BotMetrics } from './metrics';

/** Who the bot is in first-party rooms (its replies are chat messages from this sender). */
export interface BotIdentity {
  id: string;
  name: string;
}

export interface OutboxDeps {
  db: Kysely<any>;
  messaging: Messaging;
  topology: Topology;
  logger: Logger;
  metrics: BotMetrics;
  bot: BotIdentity;
  /** Kick replies; absent: Kick replies are skipped (counted), first-party ones still go out. */
  kickChat?: KickChatSender;
  /** Per-channel budget of Kick replies (Kick documents no limit; 429s happen). */
  kickReplyLimiter: RateLimiter;
  publishTimeoutMs: number;
}

export interface CommandKey {
  platform: string;
  channelId: string;
  messageId: string;
}

/**
 * The two things a decision owes the world after its commit, each recorded in the same transaction and
 * delivered here: the clip.created event (clips.published_at) and the reply (bot_commands.reply_state).
 * `deliver*` runs right after the commit; `sweep()` catches up what a crash between commit and delivery
 * left behind.
 *
 * - clip.created is at least once into JetStream with msgID `clip:<id>`, so a re-sent event within the
 *   duplicate window is stored once.
 * - A first-party reply is a chat message with an id derived from the command, published with msgID: at
 *   least once, stored once. A Kick reply goes through Kick's API, which has no idempotency key: the row is
 *   marked `sending` before the call and never sent again from that state (at most once).
 */
export function createOutbox(deps: OutboxDeps) {
  async function publishClip(clipId: number, path: 'direct' | 'sweep'): Promise<void> {
    const { rows } = await sql<ClipRow & { platform: string; channel_id: string; created_at: Date; stream_started_at: Date }>`
      SELECT c.platform, c.channel_id, c.created_at, s.started_at AS stream_started_at,
             c.id, c.stream_id, c.message_id, c.requester_id, c.requester_name, c.requested_at, c.offset_ms, c.duration_s, c.status, c.replaced_by
      FROM clips c JOIN live_streams s ON s.id = c.stream_id
      WHERE c.id = ${clipId} AND c.published_at IS NULL`.execute(deps.db);
    const clip = rows[0];
    if (!clip) return;
    const event: PlatformEvent = {
      platform: clip.platform as PlatformEvent['platform'],
      eventId: `clip-${clipId}`,
      type: 'clip.created',
      channelId: clip.channel_id,
      receivedAt: clip.created_at.toISOString(),
      data: { ...clipView(clip), streamStartedAt: clip.stream_started_at.toISOString() },
    };
    const subject = deps.topology.events.subject(event.platform, event.channelId, event.type);
    await publishStored(deps.messaging, subject, JSON.stringify(event), `clip:${clipId}`, deps.publishTimeoutMs);
    await sql`UPDATE clips SET published_at = now() WHERE id = ${clipId} AND published_at IS NULL`.execute(deps.db);
    deps.metrics.clipEvents.labels(path).inc();
  }

  async function sendReply(key: CommandKey): Promise<void> {
    const claimed = await sql<{ reply: string; requested_at: Date }>`
      UPDATE bot_commands SET reply_state = 'sending'
      WHERE platform = ${key.platform} AND channel_id = ${key.channelId} AND message_id = ${key.messageId} AND reply_state = 'pending'
      RETURNING reply, requested_at`.execute(deps.db);
    const row = claimed.rows[0];
    if (!row) return;
    let result: 'sent' | 'failed' | 'rate_limited' | 'skipped' = 'sent';
    try {
      if (key.platform === 'onair') await replyInRoom(key, row.reply, row.requested_at);
      else if (!deps.kickChat) result = 'skipped';
      else if (deps.kickReplyLimiter.take(`${key.platform}:${key.channelId}`) > 0) result = 'rate_limited';
      else await deps.kickChat.send({ broadcasterUserId: Number(key.channelId), content: row.reply, replyToMessageId: key.messageId });
    } catch (error) {
      result = 'failed';
      deps.logger.warn({ err: error, ...key }, 'bot reply failed');
    }
    await sql`
      UPDATE bot_commands SET reply_state = ${result === 'sent' ? 'sent' : 'failed'}
      WHERE platform = ${key.platform} AND channel_id = ${key.channelId} AND message_id = ${key.messageId}`.execute(deps.db);
    deps.metrics.replies.labels(key.platform, result).inc();
  }

  /** The bot's answer as a chat message in the room: its id comes from the command, so a resend is one message. */
  async function replyInRoom(key: CommandKey, content: string, requestedAt: Date): Promise<void> {
    const digest = createHash('sha256').update(`${key.platform}\u0000${key.channelId}\u0000${key.messageId}`).digest('base64url').slice(0, 32);
    const message: ChatMessage = {
      platform: 'onair',
      messageId: `${deps.bot.id}:${digest}`,
      channelId: key.channelId,
      senderId: deps.bot.id,
      senderUsername: deps.bot.name,
      content,
      // Right after the command in the room's history, whenever the reply actually goes out.
      sentAt: new Date(requestedAt.getTime() + 1).toISOString(),
      receivedAt: new Date().toISOString(),
    };
    const subject = deps.topology.chat.subject('onair', key.channelId);
    await publishStored(deps.messaging, subject, JSON.stringify(message), `onair:${message.messageId}`, deps.publishTimeoutMs);
  }

  return {
    publishClip,
    sendReply,
    /** Delivers what commits older than `graceS` left undelivered (their process died or NATS was down). */
    async sweep(graceS = 5): Promise<{ clips: number; replies: number }> {
      const clips = await sql<{ id: string }>`
        SELECT id FROM clips WHERE published_at IS NULL AND created_at < now() - make_interval(secs => ${graceS}) ORDER BY id LIMIT 200`.execute(deps.db);
      for (const { id } of clips.rows) await publishClip(Number(id), 'sweep');
      const replies = await sql<{ platform: string; channel_id: string; message_id: string }>`
        SELECT platform, channel_id, message_id FROM bot_commands
        WHERE reply_state = 'pending' AND created_at < now() - make_interval(secs => ${graceS}) ORDER BY created_at LIMIT 200`.execute(deps.db);
      for (const r of replies.rows) await sendReply({ platform: r.platform, channelId: r.channel_id, messageId: r.message_id });
      return { clips: clips.rows.length, replies: replies.rows.length };
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
