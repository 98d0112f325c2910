import { KickApiError } from './errors';

/**
 * Sends chat messages through Kick's public API, `POST /public/v1/chat`:
 * `{ type: 'user' | 'bot', broadcaster_user_id, content (≤ 500), reply_to_message_id? }` with a user access
 * token holding `chat:write` → `{ data: { is_sent, message_id }, message }`. Kick's `type: 'bot'` always posts
 * into the channel the token belongs to, so a bot that serves many channels posts as its own account
 * (`type: 'user'`, the bot account's token) into each channel by broadcaster id.
 */
export interface KickChatSender {
  send(message: { broadcasterUserId: number; content: string; replyToMessageId?: string }): Promise<{ messageId: string | null }>;
}

export interface KickChatSenderOptions {
  /** e.g. `https://api.kick.com`. */
  apiBase: string;
  /** User access token of the bot account (scope `chat:write`). */
  token: string;
  /** Per attempt, in ms. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

/** Kick's chat content limit, in characters. */
export const KICK_CHAT_MAX = 500;

export function createKickChatSender(options: KickChatSenderOptions): KickChatSender {
  const url = `${options.apiBase.replace(/\/+$/, '')}/public/v1/chat`;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return {
    async send({ broadcasterUserId, content, replyToMessageId }) {
      const body = JSON.stringify({
        type: 'user',
        broadcaster_user_id: broadcasterUserId,
        content: [...content].slice(0, KICK_CHAT_MAX).join(''),
        ...(replyToMessageId ? { reply_to_message_id: replyToMessageId } : {}),
      });
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
        });
      } catch (err) {
        const timeout = (err as Error).name === 'TimeoutError';
        throw new KickApiError('chat', timeout ? 'timeout' : 'network', null, null, { cause: err });
      }
      const text = await res.text();
      let parsed: { data?: { is_sent?: unknown; message_id?: unknown } | null; message?: unknown } | undefined;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = undefined;
      }
      if (!res.ok) throw new KickApiError('chat', 'http', res.status, typeof parsed?.message === 'string' ? parsed.message : null);
      if (parsed?.data?.is_sent !== true) throw new KickApiError('chat', 'invalid_response', res.status, 'message was not sent');
      return { messageId: typeof parsed.data.message_id === 'string' ? parsed.data.message_id : null };
    },
  };
}
