import { Counter, type Registry } from 'prom-client';

export interface BotMetrics {
  /** Chat messages read, and those that were clip commands. */
  messages: Counter<'kind'>;
  /** Decisions by outcome (created, replaced, refused_*, disabled); redeliveries are `repeat`. */
  commands: Counter<'outcome'>;
  /** Replies by result: sent, failed, rate_limited, skipped (replies off for Kick: no bot token). */
  replies: Counter<'platform' | 'result'>;
  /** clip.created events stored in JetStream, by path (at once, or by the outbox sweep). */
  clipEvents: Counter<'path'>;
}

export function createBotMetrics(registry: Registry): BotMetrics {
  return {
    messages: new Counter({ name: 'chat_bot_messages_total', help: 'Chat messages read by the bot, by kind (chat, command, own).', labelNames: ['kind'], registers: [registry] }),
    commands: new Counter({ name: 'chat_bot_commands_total', help: 'Clip commands by outcome.', labelNames: ['outcome'], registers: [registry] }),
    replies: new Counter({ name: 'chat_bot_replies_total', help: 'Bot replies in chat by platform and result.', labelNames: ['platform', 'result'], registers: [registry] }),
    clipEvents: new Counter({ name: 'chat_bot_clip_events_total', help: 'clip.created events stored, by path (direct, sweep).', labelNames: ['path'], registers: [registry] }),
  };
}
