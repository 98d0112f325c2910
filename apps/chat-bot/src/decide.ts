import { sql, type Kysely } from 'kysely';
import type { ChatMessage } from '@onair/contracts';
import type { ClipCommand } from './command';
import { streamAt } from './live-streams';
import { DEFAULT_CLIP_S, readSettings, type BotSettings } from './settings';

/** What the bot decided for one command message. */
export type Outcome =
  | 'created'
  | 'replaced'
  | 'refused_cooldown'
  | 'refused_not_allowed'
  | 'refused_length'
  | 'refused_not_live'
  | 'disabled';

/**
 * No stream is known yet for a command's time. Thrown (rolling the decision back) while the message is on
 * its first deliveries: the stream's start event travels on another consumer and may simply not have been
 * recorded yet. The batch is naked and comes back after a backoff; a later delivery decides "not live".
 */
export class StreamNotKnownYetError extends Error {
  override readonly name = 'StreamNotKnownYetError';
  readonly code = 'stream_not_known_yet';
}

export interface Decision {
  outcome: Outcome;
  /** False when this message was decided before (a redelivery, another replica, a replayed webhook). */
  fresh: boolean;
  clipId?: number;
  /** The bot's answer in chat, when it gives one. */
  reply?: string;
}

/**
 * Decides one clip command, exactly once per message, in one transaction:
 * - the message's row in `bot_commands` (key: platform, channel, message id) is claimed first; a message
 *   already there was decided before and changes nothing;
 * - a transaction-scoped advisory lock on (platform, channel, requester) orders one user's commands across
 *   replicas, so the cooldown and "a longer request replaces" rules see each other's results;
 * - every time involved is the message's own `sentAt` (the platform's, or the id's for first-party chat) and
 *   the stream's announced start: no process clock, so a clip's offset does not drift however long the stream.
 */
export async function decideCommand(
  db: Kysely<any>,
  message: ChatMessage,
  command: ClipCommand,
  options: { waitForStream: boolean } = { waitForStream: false },
): Promise<Decision> {
  const { platform, channelId, messageId, senderId } = message;
  const at = new Date(message.sentAt);
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${platform}\n${channelId}\n${senderId}`}, 0))`.execute(trx);
    const claimed = await sql`
      INSERT INTO bot_commands (platform, channel_id, message_id, requester_id, requested_at, outcome)
      VALUES (${platform}, ${channelId}, ${messageId}, ${senderId}, ${at}, 'pending')
      ON CONFLICT DO NOTHING RETURNING 1`.execute(trx);
    if (claimed.rows.length === 0) {
      const { rows } = await sql<{ outcome: Outcome }>`
        SELECT outcome FROM bot_commands WHERE platform = ${platform} AND channel_id = ${channelId} AND message_id = ${messageId}`.execute(trx);
      return { outcome: rows[0]!.outcome, fresh: false };
    }

    const settings = await readSettings(trx, platform, channelId);
    const decision = await decide(trx, message, command, at, settings);
    if (decision.outcome === 'refused_not_live' && options.waitForStream) throw new StreamNotKnownYetError(`no stream known for ${platform}/${channelId} at ${message.sentAt}`);
    // One polite refusal per cooldown: a refusal within the cooldown of an earlier answered refusal is silent.
    let reply = settings.replies ? decision.reply : undefined;
    if (reply && decision.outcome.startsWith('refused_')) {
      const earlier = await sql`
        SELECT 1 FROM bot_commands
        WHERE platform = ${platform} AND channel_id = ${channelId} AND requester_id = ${senderId}
          AND outcome LIKE 'refused_%' AND reply IS NOT NULL AND message_id <> ${messageId}
          AND requested_at > ${new Date(at.getTime() - settings.cooldownS * 1000)} AND requested_at < ${new Date(at.getTime() + settings.cooldownS * 1000)}
        LIMIT 1`.execute(trx);
      // Either side of this message: two replicas may decide a viewer's commands out of order.
      if (earlier.rows.length > 0) reply = undefined;
    }
    await sql`
      UPDATE bot_commands SET outcome = ${decision.outcome}, reply = ${reply ?? null}, reply_state = ${reply ? 'pending' : 'none'}
      WHERE platform = ${platform} AND channel_id = ${channelId} AND message_id = ${messageId}`.execute(trx);
    return { ...decision, fresh: true, ...(reply ? { reply } : { reply: undefined }) };
  });
}

async function decide(trx: Kysely<any>, message: ChatMessage, command: ClipCommand, at: Date, settings: BotSettings): Promise<Omit<Decision, 'fresh'>> {
  const { platform, channelId, messageId, senderId, senderUsername } = message;
  const who = `@${senderUsername}`;
  if (!settings.enabled) return { outcome: 'disabled' };
  if (settings.mode === 'streamer_only' && !mayClip(message, settings)) {
    return { outcome: 'refused_not_allowed', reply: `${who} only the streamer, moderators and approved viewers can clip here` };
  }
  const seconds = command.seconds ?? Math.min(settings.maxClipS, Math.max(settings.minClipS, DEFAULT_CLIP_S));
  if (seconds < settings.minClipS || seconds > settings.maxClipS) {
    return { outcome: 'refused_length', reply: `${who} clips are ${settings.minClipS}-${settings.maxClipS} s` };
  }
  const stream = await streamAt(trx, platform, channelId, at);
  if (!stream) return { outcome: 'refused_not_live', reply: `${who} the stream is not live, nothing to clip` };

  const previous = await sql<{ id: string; duration_s: number; requested_at: Date }>`
    SELECT id, duration_s, requested_at FROM clips
    WHERE platform = ${platform} AND channel_id = ${channelId} AND requester_id = ${senderId} AND status = 'active'
      AND requested_at > ${new Date(at.getTime() - settings.cooldownS * 1000)} AND requested_at <= ${at}
    ORDER BY requested_at DESC LIMIT 1`.execute(trx);
  const before = previous.rows[0];
  if (before && seconds <= before.duration_s) {
    const waitS = Math.ceil((before.requested_at.getTime() + settings.cooldownS * 1000 - at.getTime()) / 1000);
    return { outcome: 'refused_cooldown', reply: `${who} you can clip again in ${waitS} s (a longer clip replaces your last one)` };
  }

  // The clip ends at the command and reaches back `seconds`; the offset is the command's position in the stream.
  const offsetMs = Math.max(0, at.getTime() - stream.startedAt.getTime());
  const inserted = await sql<{ id: string }>`
    INSERT INTO clips (platform, channel_id, message_id, stream_id, requester_id, requester_name, requested_at, offset_ms, duration_s)
    VALUES (${platform}, ${channelId}, ${messageId}, ${stream.id}, ${senderId}, ${senderUsername}, ${at}, ${offsetMs}, ${seconds})
    RETURNING id`.execute(trx);
  const clipId = Number(inserted.rows[0]!.id);
  if (before) {
    await sql`UPDATE clips SET status = 'replaced', replaced_by = ${clipId} WHERE id = ${before.id}`.execute(trx);
    return { outcome: 'replaced', clipId, reply: `${who} clip replaced: now ${seconds} s ending at ${formatOffset(offsetMs)}` };
  }
  return { outcome: 'created', clipId, reply: `${who} clip saved: ${seconds} s ending at ${formatOffset(offsetMs)}` };
}

/** Streamer-only mode: the broadcaster, the channel's moderators and approved users (by id or name). */
function mayClip(message: ChatMessage, settings: BotSettings): boolean {
  const roles = message.senderRoles ?? [];
  if (roles.includes('broadcaster') || roles.includes('moderator')) return true;
  // On Kick the broadcaster's user id is the channel id.
  if (message.platform === 'kick' && message.senderId === message.channelId) return true;
  const name = message.senderUsername.toLowerCase();
  return settings.approvedUsers.some((u) => u === message.senderId || u.toLowerCase() === name);
}

/** `1:02:03` for an offset in ms (hours grow past 24 for a long stream). */
export function formatOffset(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}
