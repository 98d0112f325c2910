import { int, oneOf, str, url } from './config';

/**
 * Variables every service reads, with the defaults of the dev stack. Each app spreads these into its own
 * shape and adds what it needs.
 */
export function commonConfig(defaultPort: number) {
  return {
    PORT: int({ default: defaultPort, min: 0, max: 65535 }),
    HOST: str({ default: '127.0.0.1' }),
    LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
    NATS_URL: url({ default: 'nats://127.0.0.1:4222', protocols: ['nats', 'tls'] }),
    /** Prefix of every stream and subject; empty in production, set per test file or tenant. */
    NATS_NAMESPACE: str({ default: '', allowEmpty: true }),
    /** Hours chat stays in the JetStream chat stream. Every service ensuring streams must agree. */
    CHAT_MAX_AGE_HOURS: int({ default: 168, min: 1 }),
    /** Byte cap of the chat stream; when full, ingest answers 503 (discard-new). */
    CHAT_MAX_BYTES: int({ default: 8 * 1024 ** 3, min: 1024 * 1024 }),
    /** Milliseconds the graceful stop may take before the process exits anyway. */
    SHUTDOWN_GRACE_MS: int({ default: 25_000, min: 0 }),
  };
}

