import type { SessionKeys } from '../session-token';

/**
 * Session keys for tests: the secret given, and the audience, issuer and lifetime that ingest and the
 * gateway default to (`SESSION_JWT_AUDIENCE`, `SESSION_JWT_ISSUER`, `SESSION_MAX_LIFETIME_S`), so a token
 * signed with these is accepted by a spawned service that was only given the secret.
 */
export function testSessionKeys(secret: string): SessionKeys {
  return { secret, audience: 'onair', issuer: 'onair-auth', maxLifetimeS: 86_400 };
}
