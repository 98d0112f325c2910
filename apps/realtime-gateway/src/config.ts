import { bool, commonConfig, ConfigError, sessionConfig, sessionKeysFromConfig, int, parseConfig, str, url } from '@onair/service-kit';

const shape = {
  ...commonConfig(8082),
  /**
   * The Pusher-protocol server (Soketi here; hosted Pusher or another compatible one by configuration).
   * Key and secret have no default: the dev Soketi's are public, so a gateway that fell back on them in
   * production would sign for anyone. `npm run dev` and `npm test` pass the dev stack's.
   */
  PUSHER_APP_ID: str({ default: 'onair' }),
  PUSHER_APP_KEY: str(),
  PUSHER_APP_SECRET: str({ secret: true }),
  PUSHER_HOST: str({ default: '127.0.0.1' }),
  PUSHER_PORT: int({ default: 6001, min: 1, max: 65535 }),
  PUSHER_USE_TLS: bool({ default: false }),
  /** Where browsers open their sockets, when not PUSHER_HOST / PUSHER_PORT (e.g. behind a public load balancer). */
  PUSHER_WS_HOST: str({ default: '', allowEmpty: true }),
  PUSHER_WS_PORT: int({ default: 0, min: 0, max: 65535 }),
  /** Postgres, read for chat history older than the stream keeps. */
  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/onair', protocols: ['postgres', 'postgresql'] }),
  DB_POOL_MAX: int({ default: 4, min: 1 }),
  ...sessionConfig(),
  /** Milliseconds a busy room's chat is gathered into one event (quiet rooms: no wait). */
  COALESCE_WINDOW_MS: int({ default: 100, min: 0, max: 5_000 }),
  /** Shortest gap, in ms, between two audience-count readings of one channel after Soketi's webhooks. */
  PRESENCE_WINDOW_MS: int({ default: 1_000, min: 0, max: 60_000 }),
  /**
   * Auth and join requests one signed-in user may make in a burst, and per second after; requests without
   * a valid session count against the client address instead.
   */
  AUTH_RATE_BURST: int({ default: 30, min: 1, max: 100_000 }),
  AUTH_RATE_PER_S: int({ default: 5, min: 1, max: 100_000 }),
  /** History (gap recovery) requests one client address may make in a burst, and per second after. */
  HISTORY_RATE_BURST: int({ default: 20, min: 1, max: 100_000 }),
  HISTORY_RATE_PER_S: int({ default: 5, min: 1, max: 100_000 }),
  /**
   * The newest messages each replica keeps in memory per room (a join's first page comes from here), and
   * how many rooms (least recently spoken leave first). Memory: about 250 B × per-room × rooms at most.
   */
  HISTORY_TAIL_PER_ROOM: int({ default: 200, min: 1, max: 10_000 }),
  HISTORY_TAIL_ROOMS: int({ default: 5_000, min: 1, max: 1_000_000 }),
  /** The gifts service; the room page's gift form goes through the gateway to it (`/gifts/v1/…`). */
  GIFTS_URL: url({ default: 'http://127.0.0.1:8087', protocols: ['http', 'https'] }),
  /** Milliseconds to wait for the gifts service before answering 503 (the page retries with the same key). */
  GIFTS_TIMEOUT_MS: int({ default: 5_000, min: 100, max: 60_000 }),
  /** Shortest gap between two leaderboard events of one room, in ms: a hot room's gifts share one read. */
  LEADERBOARD_INTERVAL_MS: int({ default: 1_000, min: 100, max: 60_000 }),
  LIVEKIT_URL: url({ default: 'ws://127.0.0.1:7880', protocols: ['ws', 'wss', 'http', 'https'] }),
  /** LiveKit API credentials; empty: the join endpoint answers 503. */
  LIVEKIT_API_KEY: str({ default: '', allowEmpty: true, secret: true }),
  LIVEKIT_API_SECRET: str({ default: '', allowEmpty: true, secret: true }),
  LIVEKIT_TOKEN_TTL_S: int({ default: 3_600, min: 60, max: 86_400 }),
};

export type GatewayConfig = ReturnType<typeof parseGatewayConfig>;

export function parseGatewayConfig(env: Record<string, string | undefined>) {
  const config = parseConfig(shape, env);
  if (Boolean(config.LIVEKIT_API_KEY) !== Boolean(config.LIVEKIT_API_SECRET)) {
    throw new ConfigError('LIVEKIT_API_SECRET', 'LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set together or not at all');
  }
  return { ...config, session: sessionKeysFromConfig(config) };
}
