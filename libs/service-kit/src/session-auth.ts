import { SessionTokenError, verifySessionToken, type SessionKeys, type SessionUser } from '@onair/session';
import { HttpError } from './errors';

/**
 * The signed-in user of a request (`Authorization: Bearer <session token>`), or 401 `unauthorized` with the
 * token's problem (never the token) as the message. One place for every route that takes session tokens.
 */
export function authenticateSession(authorization: string | undefined, keys: SessionKeys, nowMs: number): SessionUser {
  const match = /^Bearer ([^\s]+)$/.exec(authorization ?? '');
  if (!match) throw new HttpError(401, 'unauthorized', 'A Bearer session token is required');
  try {
    return verifySessionToken(match[1]!, keys, nowMs);
  } catch (error) {
    if (error instanceof SessionTokenError) throw new HttpError(401, 'unauthorized', error.message);
    throw error;
  }
}
