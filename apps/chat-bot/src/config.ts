import { adminConfig, commonConfig, ConfigError, int, parseConfig, sessionConfig, sessionKeysFromConfig, str, url } from '@onair/service-kit';

const shape = {
  ...commonConfig(8086),
  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/onair', protocols: ['postgres', 'postgresql'] }),
  DB_POOL_MAX: int({ default: 4, min: 1 }),
  /** Operators' token for the settings API (≥ 24 characters, no default). */
  ...adminConfig(),
  /** Streamers read their own clips with their session token (same keys as ingest and the gateway). */
  ...sessionConfig(),
  /** The bot's sender id and name in first-party rooms. */
  BOT_USER_ID: str({ default: 'onair-bot' }),
  BOT_NAME: str({ default: 'clipbot' }),
  /** Kick's API, for replies in Kick chat. */
  KICK_API_BASE: url({ default: 'https://api.kick.com', protocols: ['http', 'https'] }),
  /**
   * User access token (scope `chat:write`) of the bot's Kick account; empty: no replies in Kick chat (clips
   * are still made; first-party rooms still get replies).
   */
  KICK_BOT_TOKEN: str({ default: '', allowEmpty: true, secret: true }),
  /** Kick replies one channel may get in a burst, and per minute after that. */
  KICK_REPLY_BURST: int({ default: 5, min: 1 }),
  KICK_REPLIES_PER_MIN: int({ default: 20, min: 1 }),
  /** Chat messages handed to one handler call, and the longest wait for more, in ms. */
  BOT_BATCH_MAX: int({ default: 500, min: 1, max: 5000 }),
  BOT_BATCH_WAIT_MS: int({ default: 20, min: 0, max: 5000 }),
  /** How often the outbox sweep looks for undelivered clip events and replies, in ms. */
  OUTBOX_SWEEP_MS: int({ default: 5_000, min: 500 }),
  /** Milliseconds to wait for a PubAck (clip events, first-party replies). */
  PUBLISH_TIMEOUT_MS: int({ default: 5_000, min: 100 }),
};

export type ChatBotConfig = ReturnType<typeof parseChatBotConfig>;

export function parseChatBotConfig(env: Record<string, string | undefined>) {
  const config = parseConfig(shape, env);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.BOT_USER_ID)) throw new ConfigError('BOT_USER_ID', 'must be 1-64 of A-Z a-z 0-9 _ -');
  return { ...config, session: sessionKeysFromConfig(config) };
}
