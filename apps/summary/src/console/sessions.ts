import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError } from '@onair/service-kit';
import { ADMIN_TOKEN_ACTOR, tokenHash, type Principal } from '../operators/principal';
import { findOperatorByTokenHash } from '../operators/sql/find-operator-by-token-hash';
import { deleteConsoleSession, deleteExpiredConsoleSessions, findConsoleSession, insertConsoleSession } from './sql/console-sessions';

/** The console's session cookie. */
export const SESSION_COOKIE = 'onair_console';
/** Where a cookie-authenticated write carries its CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SignedIn {
  /** The cookie's value: 32 random bytes, base64url. Only its SHA-256 is stored. */
  cookie: string;
  csrfToken: string;
  principal: Principal;
  expiresAt: Date;
}

export interface ConsoleSessions {
  /** Exchanges an operator token (or ADMIN_TOKEN) for a session; undefined when the token is not valid. */
  signIn(token: string): Promise<SignedIn | undefined>;
  /** The session's principal and expiry, or undefined (unknown, expired, operator disabled, ADMIN_TOKEN rotated). */
  find(cookie: string): Promise<{ principal: Principal; expiresAt: Date } | undefined>;
  signOut(cookie: string): Promise<void>;
  /**
   * The `authenticate` hook's fallback for requests without a bearer token: the session cookie's
   * principal. Writes (anything but GET/HEAD/OPTIONS) must also carry the session's CSRF token in
   * `X-CSRF-Token`: SameSite=Strict already keeps the cookie off other sites' requests, the token also
   * covers browsers and same-site subdomains SameSite does not. No cookie: undefined (the 401 stands).
   */
  principalOf(request: FastifyRequest): Promise<Principal | undefined>;
}

/**
 * The CSRF token of a session: an HMAC of the cookie's value. Nothing to store, and only code that can
 * read the HttpOnly cookie (none in a browser) or was given the token at sign-in can produce it.
 */
export function csrfTokenFor(cookie: string): string {
  return createHmac('sha256', cookie).update('onair console csrf').digest('base64url');
}

/** One cookie from the Cookie header (RFC 6265 pairs); our values are base64url, never quoted or encoded. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie value: HttpOnly (page scripts never see it), SameSite=Strict (other sites' requests never
 * carry it), Path=/ (the API is under /v1), Secure when the request came over HTTPS (directly or, with
 * TRUST_PROXY, through a proxy that said so): a plain-HTTP dev stack on 127.0.0.1 still works.
 */
export function sessionCookie(value: string, options: { maxAgeS: number; secure: boolean }): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${options.maxAgeS}${options.secure ? '; Secure' : ''}`;
}

const COOKIE_FORM = /^[A-Za-z0-9_-]{43}$/;

export function createConsoleSessions(options: { db: Kysely<any>; adminToken: string; ttlMs: number; now: () => Date }): ConsoleSessions {
  const adminHash = tokenHash(options.adminToken);
  const { db } = options;

  async function find(cookie: string) {
    if (!COOKIE_FORM.test(cookie)) return undefined;
    const stored = await findConsoleSession(db, tokenHash(cookie), options.now());
    if (!stored) return undefined;
    let principal: Principal;
    if (stored.operatorId === null) {
      // Signed in with ADMIN_TOKEN: valid while that token is still the deployment's.
      if (!stored.adminTokenHash || stored.adminTokenHash.length !== adminHash.length || !timingSafeEqual(stored.adminTokenHash, adminHash)) return undefined;
      principal = { operatorId: null, role: 'admin', actor: ADMIN_TOKEN_ACTOR };
    } else {
      if (!stored.operator) return undefined;
      principal = { operatorId: stored.operatorId, role: stored.operator.role, actor: stored.operator.name };
    }
    return { principal, expiresAt: stored.expiresAt };
  }

  return {
    async signIn(token) {
      let principal: Principal | undefined;
      const given = Buffer.from(token);
      const admin = Buffer.from(options.adminToken);
      if (given.length === admin.length && timingSafeEqual(given, admin)) {
        principal = { operatorId: null, role: 'admin', actor: ADMIN_TOKEN_ACTOR };
      } else if (token.length >= 24 && token.length <= 200) {
        const operator = await findOperatorByTokenHash(db, tokenHash(token));
        if (operator) principal = { operatorId: operator.id, role: operator.role, actor: operator.name };
      }
      if (!principal) return undefined;
      const at = options.now();
      const expiresAt = new Date(at.getTime() + options.ttlMs);
      const cookie = randomBytes(32).toString('base64url');
      await deleteExpiredConsoleSessions(db, at);
      await insertConsoleSession(db, {
        idHash: tokenHash(cookie),
        operatorId: principal.operatorId,
        adminTokenHash: principal.operatorId === null ? adminHash : null,
        at,
        expiresAt,
      });
      return { cookie, csrfToken: csrfTokenFor(cookie), principal, expiresAt };
    },
    find,
    async signOut(cookie) {
      if (COOKIE_FORM.test(cookie)) await deleteConsoleSession(db, tokenHash(cookie));
    },
    async principalOf(request) {
      const cookie = readCookie(request, SESSION_COOKIE);
      if (cookie === undefined) return undefined;
      const session = await find(cookie);
      if (!session) return undefined;
      if (!SAFE_METHODS.has(request.method)) {
        const given = Buffer.from(String(request.headers[CSRF_HEADER] ?? ''));
        const wanted = Buffer.from(csrfTokenFor(cookie));
        if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
          throw new HttpError(403, 'csrf_failed', 'A write from the console needs its X-CSRF-Token');
        }
      }
      return session.principal;
    },
  };
}
