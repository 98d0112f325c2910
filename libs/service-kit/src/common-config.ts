import { cidrList, int, oneOf, str, url, urlList } from './config';
import { ConfigError } from './errors';
import type { HttpServerConfig } from './http';

/**
 * Variables every service reads, with the defaults of the dev stack. Each app spreads these into its own
 * shape and adds what it needs.
 */
export function commonConfig(defaultPort: number) {
  return {
    PORT: int({ default: defaultPort, min: 0, max: 65535 }),
    HOST: str({ default: '127.0.0.1' }),
    LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
    /**
     * The NATS server, or the servers of a cluster, comma-separated (`nats://a:4222,nats://b:4222`). The
     * client connects to one of them, learns the rest of the cluster from it and reconnects to another when
     * its server goes away. Naming every node lets a service start while any one of them is down.
     */
    NATS_URL: urlList({ default: ['nats://127.0.0.1:4222'], protocols: ['nats', 'tls'] }),
    /**
     * Copies JetStream keeps of each stream (chat, events, probes, jobs, dead letters): 1 on a single server
     * (dev, tests), 3 on a three-node cluster, so a lost node loses nothing and the streams elect a new leader.
     * At most the cluster's size; applied to existing streams at start. Every service ensuring streams must agree.
     */
    NATS_STREAM_REPLICAS: int({ default: 1, min: 1, max: 5 }),
    /** Prefix of every stream and subject; empty in production, set per test file or tenant. */
    NATS_NAMESPACE: str({ default: '', allowEmpty: true }),
    /** Hours chat stays in the JetStream chat stream. Every service ensuring streams must agree. */
    CHAT_MAX_AGE_HOURS: int({ default: 168, min: 1 }),
    /** Byte cap of the chat stream; when full, ingest answers 503 (discard-new). */
    CHAT_MAX_BYTES: int({ default: 8 * 1024 ** 3, min: 1024 * 1024 }),
    /**
     * Byte caps of the events and probes streams. JetStream reserves every file stream's cap against its
     * storage, so test and dev stacks running many namespaces at once set them small.
     */
    EVENTS_MAX_BYTES: int({ default: 1024 ** 3, min: 1024 * 1024 }),
    PROBES_MAX_BYTES: int({ default: 2 * 1024 ** 3, min: 1024 * 1024 }),
    /**
     * Seconds JetStream remembers a message id on the chat and events streams (their duplicate window): a
     * webhook or message repeated within it is stored once and answered `duplicate: true`. Ingest refuses to
     * start unless it covers twice its largest accepted clock difference, so every replay it can accept is
     * still remembered (the default is 2 × 300 s plus a minute for clocks). Each remembered id costs the NATS
     * server ~274 bytes (`npm run bench:dedupe`). Every service ensuring streams must agree.
     */
    DEDUPE_WINDOW_S: int({ default: 660, min: 1, max: 86_400 }),
    /** Milliseconds the graceful stop may take before the process exits anyway. */
    SHUTDOWN_GRACE_MS: int({ default: 25_000, min: 0 }),
    /**
     * Proxies (comma-separated IPs/CIDRs) whose `X-Forwarded-For` is believed. Empty: none, so the client
     * address is the socket's and a forged header changes nothing; behind a load balancer, name its range,
     * or every client shares the balancer's address (and its rate-limit bucket).
     */
    TRUST_PROXY: cidrList(),
    /**
     * Bearer token `/metrics` requires (≥ 24 characters). Empty: `/metrics` is open, which is only right
     * where the port cannot be reached from outside (dev, or a network policy).
     */
    METRICS_TOKEN: str({ default: '', allowEmpty: true, minLength: 24, secret: true }),
  };
}

/** What `createHttpServer` takes from a parsed `commonConfig()`: who is a proxy, what guards `/metrics`. */
export function httpServerConfig(config: { TRUST_PROXY: string[]; METRICS_TOKEN: string }): HttpServerConfig {
  return { trustProxy: config.TRUST_PROXY, ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}) };
}

/** The operator token of services with operator-only routes (summary's admin API, probe-scheduler's audit). */
export function adminConfig() {
  return {
    /** Bearer token of the operator routes (≥ 24 characters); no default. */
    ADMIN_TOKEN: str({ minLength: 24, secret: true }),
  };
}


/**
 * The session-token variables of every service that accepts signed-in users (ingest, the gateway). The
 * secret has no default; audience and issuer must match what the identity service mints.
 */
export function sessionConfig() {
  return {
    /** HMAC secret of the HS256 session tokens (≥ 32 characters). */
    SESSION_JWT_SECRET: str({ secret: true }),
    /** `aud` a token must name to be accepted here. */
    SESSION_JWT_AUDIENCE: str({ default: 'onair' }),
    /** `iss` a token must carry. */
    SESSION_JWT_ISSUER: str({ default: 'onair-auth' }),
    /** Longest accepted token lifetime (`exp - iat`), in seconds. */
    SESSION_MAX_LIFETIME_S: int({ default: 86_400, min: 60, max: 30 * 86_400 }),
  };
}

/** The session keys from a parsed `sessionConfig()`, refusing a short secret. */
export function sessionKeysFromConfig(config: {
  SESSION_JWT_SECRET: string;
  SESSION_JWT_AUDIENCE: string;
  SESSION_JWT_ISSUER: string;
  SESSION_MAX_LIFETIME_S: number;
}): { secret: string; audience: string; issuer: string; maxLifetimeS: number } {
  if (config.SESSION_JWT_SECRET.length < 32) throw new ConfigError('SESSION_JWT_SECRET', 'must be at least 32 characters');
  return {
    secret: config.SESSION_JWT_SECRET,
    audience: config.SESSION_JWT_AUDIENCE,
    issuer: config.SESSION_JWT_ISSUER,
    maxLifetimeS: config.SESSION_MAX_LIFETIME_S,
  };
}

/**
 * Kick's API origins and the app's client credentials (client-credentials grant), for the services that call
 * Kick as the app (probing, onboarding and subscriptions). Both credentials empty: those features are off and
 * the service says so; a template placeholder is refused.
 */
export function kickAppConfig() {
  return {
    KICK_API_BASE: url({ default: 'https://api.kick.com', protocols: ['http', 'https'] }),
    KICK_OAUTH_BASE: url({ default: 'https://id.kick.com', protocols: ['http', 'https'] }),
    KICK_CLIENT_ID: str({ default: '', allowEmpty: true, secret: true }),
    KICK_CLIENT_SECRET: str({ default: '', allowEmpty: true, secret: true }),
  };
}
