import { createHmac, timingSafeEqual } from 'node:crypto';

/** The user a session token speaks for. */
export interface SessionUser {
  /** User id (`sub`). */
  id: string;
  /** Display name (`name`). */
  name: string;
  /** Rooms this user owns (`owns`): the owner may publish media in them. */
  ownsRooms: string[];
  /** Rooms this user moderates (`mods`), as the room's owner chose. */
  moderatesRooms: string[];
}

/**
 * What a service needs to sign or accept session tokens. Ingest and the gateway take the same values from
 * config; the identity service that issues tokens in production uses the same audience and issuer.
 */
export interface SessionKeys {
  /** HS256 secret (≥ 32 characters). */
  secret: string;
  /** `aud` every accepted token must name: a token minted for another service is refused. */
  audience: string;
  /** `iss` every accepted token must carry. */
  issuer: string;
  /** Longest accepted lifetime (`exp - iat`) in seconds: a stolen year-long token is refused outright. */
  maxLifetimeS: number;
}

/** Why a token was refused; stable strings, safe to show a client. */
export type SessionTokenProblem =
  | 'malformed'
  | 'bad_algorithm'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claims'
  | 'lifetime_too_long'
  | 'wrong_audience'
  | 'wrong_issuer';

export class SessionTokenError extends Error {
  override readonly name = 'SessionTokenError';
  constructor(readonly problem: SessionTokenProblem) {
    super(`session token refused: ${problem.replace(/_/g, ' ')}`);
  }
}

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

/** Leeway for clocks that disagree, in seconds, applied to `exp`, `nbf` and `iat`. */
const CLOCK_SKEW_S = 30;

/** Longest token accepted at all, in characters: the header and claims are small. */
const MAX_TOKEN_LENGTH = 4096;

/**
 * Verifies an HS256 JWT session token and returns its user. Only HS256 is accepted: a token naming any
 * other algorithm (`none`, RS256 with the secret as a "public key") is refused before its signature is read.
 * `exp` and `iat` are required numbers, `exp - iat` is at most `keys.maxLifetimeS`, `iat` is not in the
 * future, and `aud` (a string or an array) must name `keys.audience` and `iss` equal `keys.issuer`.
 */
export function verifySessionToken(token: string, keys: SessionKeys, nowMs = Date.now()): SessionUser {
  if (token.length > MAX_TOKEN_LENGTH) throw new SessionTokenError('malformed');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new SessionTokenError('malformed');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseJson(headerPart);
  if (header?.['alg'] !== 'HS256') throw new SessionTokenError('bad_algorithm');
  const expected = createHmac('sha256', keys.secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SessionTokenError('bad_signature');
  const claims = parseJson(payloadPart);
  if (!claims) throw new SessionTokenError('malformed');

  const { exp, iat, nbf } = claims;
  if (!isSeconds(exp) || !isSeconds(iat)) throw new SessionTokenError('missing_claims');
  if (nbf !== undefined && !isSeconds(nbf)) throw new SessionTokenError('missing_claims');
  const nowS = nowMs / 1000;
  if (nowS > exp + CLOCK_SKEW_S) throw new SessionTokenError('expired');
  if (iat > nowS + CLOCK_SKEW_S || (nbf !== undefined && nowS < nbf - CLOCK_SKEW_S)) throw new SessionTokenError('not_yet_valid');
  if (exp - iat > keys.maxLifetimeS) throw new SessionTokenError('lifetime_too_long');
  const aud = claims['aud'];
  if (!(aud === keys.audience || (Array.isArray(aud) && aud.includes(keys.audience)))) throw new SessionTokenError('wrong_audience');
  if (claims['iss'] !== keys.issuer) throw new SessionTokenError('wrong_issuer');

  const sub = claims['sub'];
  const name = claims['name'];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw new SessionTokenError('missing_claims');
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 64) throw new SessionTokenError('missing_claims');
  return { id: sub, name: name.trim(), ownsRooms: roomList(claims['owns']), moderatesRooms: roomList(claims['mods']) };
}

/** A claim listing room ids: strings of at most 64 characters, at most 100 of them; anything else is none. */
function roomList(claim: unknown): string[] {
  return Array.isArray(claim) ? claim.filter((r): r is string => typeof r === 'string' && r.length <= 64).slice(0, 100) : [];
}

/** Signs a session token; the identity service does this in production, tests and dev tools here. */
export function signSessionToken(
  user: Omit<SessionUser, 'ownsRooms' | 'moderatesRooms'> & { ownsRooms?: string[]; moderatesRooms?: string[] },
  keys: Pick<SessionKeys, 'secret' | 'audience' | 'issuer'>,
  options: { ttlS?: number; nowMs?: number } = {},
): string {
  const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = {
    sub: user.id,
    name: user.name,
    ...(user.ownsRooms?.length ? { owns: user.ownsRooms } : {}),
    ...(user.moderatesRooms?.length ? { mods: user.moderatesRooms } : {}),
    aud: keys.audience,
    iss: keys.issuer,
    iat,
    exp: iat + (options.ttlS ?? 3600),
  };
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', keys.secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** A NumericDate: finite seconds since the epoch (not a string, not 1e300). */
function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1e11;
}

function parseJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
