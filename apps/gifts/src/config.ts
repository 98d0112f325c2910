import { adminConfig, commonConfig, int, parseConfig, sessionConfig, sessionKeysFromConfig, str, url } from '@onair/service-kit';

const shape = {
  ...commonConfig(8087),
  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/onair', protocols: ['postgres', 'postgresql'] }),
  DB_POOL_MAX: int({ default: 8, min: 1 }),
  /** Operators' token: grants, refunds, the catalog, the ledger check (≥ 24 characters, no default). */
  ...adminConfig(),
  /** Viewers send gifts with their session token (same keys as ingest and the gateway). */
  ...sessionConfig(),
  /** HMAC-SHA256 secret of the payment provider's webhooks; empty: the webhook answers 503. */
  PAYMENT_WEBHOOK_SECRET: str({ default: '', allowEmpty: true, minLength: 24, secret: true }),
  /** The platform's share of each gift, in basis points (2000 = 20 %). */
  GIFT_FEE_BPS: int({ default: 2_000, min: 0, max: 10_000 }),
  /** Gifts one user may send in a burst, and per second after that. */
  GIFT_RATE_BURST: int({ default: 20, min: 1 }),
  GIFT_RATE_PER_S: int({ default: 10, min: 1 }),
  /** How often recipients' credits are folded into their wallets, and unpublished gifts swept, in ms. */
  FOLD_INTERVAL_MS: int({ default: 1_000, min: 100 }),
  OUTBOX_SWEEP_MS: int({ default: 2_000, min: 100 }),
  /** Milliseconds to wait for a PubAck when publishing a gift to its room. */
  PUBLISH_TIMEOUT_MS: int({ default: 2_000, min: 100 }),
};

export type GiftsConfig = ReturnType<typeof parseGiftsConfig>;

export function parseGiftsConfig(env: Record<string, string | undefined>) {
  const config = parseConfig(shape, env);
  return { ...config, session: sessionKeysFromConfig(config) };
}
