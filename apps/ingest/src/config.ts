import { readFileSync } from 'node:fs';
import { ConfigError, commonConfig, sessionConfig, sessionKeysFromConfig, int, parseConfig, str } from '@onair/service-kit';

const shape = {
  ...commonConfig(8081),
  /** Kick's webhook public key (PEM). Kick publishes it at GET https://api.kick.com/public/v1/public-key. */
  KICK_PUBLIC_KEY: str({ default: '', allowEmpty: true }),
  /** Path of a file holding the PEM key, when the key is not given inline. */
  KICK_PUBLIC_KEY_FILE: str({ default: '', allowEmpty: true }),
  /** Largest webhook age or clock difference accepted, in seconds (Kick's signature has no expiry). */
  KICK_MAX_SKEW_S: int({ default: 300, min: 1 }),
  /**
   * Largest difference, in seconds, between now and a LiveKit event's `createdAt` or the time inside a
   * first-party message id (UUIDv7). Older ones are refused: JetStream no longer remembers their ids.
   */
  MESSAGE_MAX_SKEW_S: int({ default: 300, min: 1 }),
  ...sessionConfig(),
  /** Room messages one user may post in a burst … */
  ROOM_RATE_BURST: int({ default: 10, min: 1 }),
  /** … and per second after that. */
  ROOM_RATE_PER_S: int({ default: 2, min: 1 }),
  /** LiveKit API key and secret that sign its webhooks; empty: POST /webhooks/livekit answers 503. */
  LIVEKIT_API_KEY: str({ default: '', allowEmpty: true, secret: true }),
  LIVEKIT_API_SECRET: str({ default: '', allowEmpty: true, secret: true }),
  /** Milliseconds to wait for JetStream's PubAck before answering 503. */
  PUBLISH_TIMEOUT_MS: int({ default: 2_000, min: 100 }),
};

export type IngestConfig = ReturnType<typeof parseIngestConfig>;

export function parseIngestConfig(env: Record<string, string | undefined>) {
  const config = parseConfig(shape, env);
  // A signed message is accepted from `skew` before its timestamp to `skew` after it, so two accepted copies
  // can be up to 2 × skew apart: the duplicate window must span that, or a replay would be stored again.
  const widestSkew = Math.max(config.KICK_MAX_SKEW_S, config.MESSAGE_MAX_SKEW_S);
  if (config.DEDUPE_WINDOW_S < 2 * widestSkew) {
    throw new ConfigError('DEDUPE_WINDOW_S', `must be at least twice KICK_MAX_SKEW_S and MESSAGE_MAX_SKEW_S (${2 * widestSkew} s), or replays inside the signature window would be stored twice`);
  }
  if (config.LIVEKIT_API_KEY && !config.LIVEKIT_API_SECRET) {
    throw new ConfigError('LIVEKIT_API_SECRET', 'is required when LIVEKIT_API_KEY is set');
  }
  return { ...config, session: sessionKeysFromConfig(config), kickPublicKey: readKickKey(config.KICK_PUBLIC_KEY, config.KICK_PUBLIC_KEY_FILE) };
}

function readKickKey(inline: string, file: string): string {
  if (inline) {
    // Env files often carry the PEM on one line with literal "\n".
    const pem = inline.replace(/\\n/g, '\n');
    if (!pem.includes('BEGIN PUBLIC KEY')) throw new ConfigError('KICK_PUBLIC_KEY', 'is not a PEM public key');
    return pem;
  }
  if (file) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError('KICK_PUBLIC_KEY_FILE', `cannot be read: ${(error as Error).message}`);
    }
    if (!pem.includes('BEGIN PUBLIC KEY')) throw new ConfigError('KICK_PUBLIC_KEY_FILE', 'holds no PEM public key');
    return pem;
  }
  throw new ConfigError('KICK_PUBLIC_KEY', 'is required (or KICK_PUBLIC_KEY_FILE): Kick webhooks cannot be verified without it');
}
