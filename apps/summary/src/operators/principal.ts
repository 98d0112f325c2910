import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError } from '@onair/service-kit';
import { findOperatorByTokenHash } from './sql/find-operator-by-token-hash';

export type OperatorRole = 'admin' | 'operator';

/** Who made a request: an operator's own token, or the deployment's ADMIN_TOKEN (an admin). */
export interface Principal {
  /** null for ADMIN_TOKEN, which belongs to no operator row. */
  operatorId: number | null;
  role: OperatorRole;
  /** What the audit log names: the operator's name, or `admin-token`. */
  actor: string;
}

/** The actor name ADMIN_TOKEN is recorded under in the audit log. */
export const ADMIN_TOKEN_ACTOR = 'admin-token';

/** A new operator token: 32 random bytes, base64url, with a prefix that makes a leaked one recognisable. */
export function newOperatorToken(): string {
  return `onair_op_${randomBytes(32).toString('base64url')}`;
}

/** What is stored: SHA-256 of the token (32 random bytes need no salt or slow hash). */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The request's principal; routes behind `authenticate` always have one. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new HttpError(401, 'unauthorized', 'A valid bearer token is required');
  return principal;
}

/** Refuses anyone but an admin with 403. */
export function requireAdmin(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (principal.role !== 'admin') throw new HttpError(403, 'forbidden', 'Only an admin may do this');
  return principal;
}

/**
 * The operator whose streamers a request may see, or undefined for an admin (every streamer). Routes
 * pass it to their queries so an operator's reads and writes never reach other operators' streamers.
 */
export function assignmentScope(principal: Principal): number | undefined {
  return principal.role === 'admin' ? undefined : (principal.operatorId ?? -1);
}

/**
 * onRequest hook: `Authorization: Bearer <token>` is ADMIN_TOKEN (compared in constant time) or an
 * enabled operator's token (looked up by its SHA-256). ADMIN_TOKEN stays an admin credential after the
 * first admin exists: every service's operator routes share it, it is the way back in when every
 * operator token is lost, and it is rotated by a deploy; its writes are audited as `admin-token`.
 */
export function authenticate(options: {
  db: Kysely<any>;
  adminToken: string;
  /** Requests without an Authorization header: the console's session cookie (console/sessions.ts). */
  session?: (request: FastifyRequest) => Promise<Principal | undefined>;
}): (request: FastifyRequest) => Promise<void> {
  const adminHeader = Buffer.from(`Bearer ${options.adminToken}`);
  return async (request) => {
    const header = request.headers.authorization ?? '';
    if (header === '' && options.session) {
      const principal = await options.session(request);
      if (!principal) throw new HttpError(401, 'unauthorized', 'A valid bearer token or console session is required');
      principals.set(request, principal);
      return;
    }
    const given = Buffer.from(header);
    if (given.length === adminHeader.length && timingSafeEqual(given, adminHeader)) {
      principals.set(request, { operatorId: null, role: 'admin', actor: ADMIN_TOKEN_ACTOR });
      return;
    }
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    // Operator tokens are 52 characters; anything far off is not worth a query.
    if (token.length < 24 || token.length > 200) throw new HttpError(401, 'unauthorized', 'A valid bearer token is required');
    const operator = await findOperatorByTokenHash(options.db, tokenHash(token));
    if (!operator) throw new HttpError(401, 'unauthorized', 'A valid bearer token is required');
    principals.set(request, { operatorId: operator.id, role: operator.role, actor: operator.name });
  };
}
