import { createHmac, timingSafeEqual } from 'node:crypto';

/** The user a session token speaks for. */
export interface SessionUser {
  /** User id (`sub`). */
  id: string;
  /** Display name (`name`). */
  name: string;
  /** Rooms this user owns (`owns`): the owner may publish media in them. */
  ownsRooms: string[];
}

/** Why a token was refused; stable strings, safe to show a client. */
export type SessionTokenProblem = 'malformed' | 'bad_algorithm' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'missing_claims';

export class SessionTokenError extends Error {
  override readonly name = 'SessionTokenError';
  constructor(readonly problem: SessionTokenProblem) {
    super(`session token refused: ${problem.replace(/_/g, ' ')}`);
  }
}

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

/** Leeway for clocks that disagree, in seconds, applied to `exp` and `nbf`. */
const CLOCK_SKEW_S = 30;

/**
 * Verifies an HS256 JWT session token and returns its user. Only HS256 is accepted: a token naming any
 * other algorithm (`none`, RS256 with the secret as a "public key") is refused before its signature is read.
 */
export function verifySessionToken(token: string, secret: string, nowMs = Date.now()): SessionUser {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new SessionTokenError('malformed');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseJson(headerPart);
  if (header?.['alg'] !== 'HS256') throw new SessionTokenError('bad_algorithm');
  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SessionTokenError('bad_signature');
  const claims = parseJson(payloadPart);
  if (!claims) throw new SessionTokenError('malformed');
  const nowS = nowMs / 1000;
  if (typeof claims['exp'] === 'number' && nowS > claims['exp'] + CLOCK_SKEW_S) throw new SessionTokenError('expired');
  if (typeof claims['nbf'] === 'number' && nowS < claims['nbf'] - CLOCK_SKEW_S) throw new SessionTokenError('not_yet_valid');
  const sub = claims['sub'];
  const name = claims['name'];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new SessionTokenError('missing_claims');
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 64) throw new SessionTokenError('missing_claims');
  const owns = claims['owns'];
  const ownsRooms = Array.isArray(owns) ? owns.filter((r): r is string => typeof r === 'string' && r.length <= 64).slice(0, 100) : [];
  return { id: sub, name: name.trim(), ownsRooms };
}

/** Signs a session token; the identity service does this in production, tests and dev tools here. */
export function signSessionToken(user: Omit<SessionUser, 'ownsRooms'> & { ownsRooms?: string[] }, secret: string, options: { ttlS?: number; nowMs?: number } = {}): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: user.id, name: user.name, ...(user.ownsRooms?.length ? { owns: user.ownsRooms } : {}), iat, exp: iat + (options.ttlS ?? 3600) }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
