import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signSessionToken, verifySessionToken, type SessionKeys } from './session-token';

const keys: SessionKeys = { secret: 'test-secret-with-enough-length-000', audience: 'onair', issuer: 'onair-auth', maxLifetimeS: 86_400 };
const now = Date.UTC(2026, 10, 23, 12);
const nowS = now / 1000;

function forge(header: object, payload: object, key = keys.secret): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', key).update(`${h}.${p}`).digest('base64url')}`;
}

/** Claims of a valid token; each refusal case changes one of them. */
const valid = { sub: 'u', name: 'n', aud: 'onair', iss: 'onair-auth', iat: nowS - 60, exp: nowS + 3600 };
const without = (key: keyof typeof valid) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key));

describe('session tokens', () => {
  it('round-trips a user', () => {
    const token = signSessionToken({ id: 'u1', name: 'Alice' }, keys, { nowMs: now });
    expect(verifySessionToken(token, keys, now)).toEqual({ id: 'u1', name: 'Alice', ownsRooms: [], moderatesRooms: [] });
    const owner = signSessionToken({ id: 'u2', name: 'Bob', ownsRooms: ['room-1'], moderatesRooms: ['room-2'] }, keys, { nowMs: now });
    expect(verifySessionToken(owner, keys, now)).toMatchObject({ ownsRooms: ['room-1'], moderatesRooms: ['room-2'] });
  });

  it('accepts a forged-by-hand valid token and an audience list naming ours', () => {
    expect(verifySessionToken(forge({ alg: 'HS256' }, valid), keys, now).id).toBe('u');
    expect(verifySessionToken(forge({ alg: 'HS256' }, { ...valid, aud: ['other', 'onair'] }), keys, now).id).toBe('u');
  });

  it.each([
    ['garbage', 'not-a-token', 'malformed'],
    ['an oversized token', forge({ alg: 'HS256' }, { ...valid, pad: 'x'.repeat(5000) }), 'malformed'],
    ['wrong secret', forge({ alg: 'HS256' }, valid, 'other'), 'bad_signature'],
    ['alg none', forge({ alg: 'none' }, valid), 'bad_algorithm'],
    ['expired', forge({ alg: 'HS256' }, { ...valid, iat: nowS - 7200, exp: nowS - 120 }), 'expired'],
    ['not yet valid', forge({ alg: 'HS256' }, { ...valid, nbf: nowS + 120 }), 'not_yet_valid'],
    ['issued in the future', forge({ alg: 'HS256' }, { ...valid, iat: nowS + 600, exp: nowS + 1200 }), 'not_yet_valid'],
    ['no exp', forge({ alg: 'HS256' }, without('exp')), 'missing_claims'],
    ['no iat', forge({ alg: 'HS256' }, without('iat')), 'missing_claims'],
    ['a string exp', forge({ alg: 'HS256' }, { ...valid, exp: String(nowS + 60) }), 'missing_claims'],
    ['exp in the year 9999', forge({ alg: 'HS256' }, { ...valid, exp: Date.UTC(9999, 0, 1) / 1000 }), 'missing_claims'],
    ['a lifetime over the maximum', forge({ alg: 'HS256' }, { ...valid, exp: valid.iat + 86_401 }), 'lifetime_too_long'],
    ['another audience', forge({ alg: 'HS256' }, { ...valid, aud: 'billing' }), 'wrong_audience'],
    ['no audience', forge({ alg: 'HS256' }, without('aud')), 'wrong_audience'],
    ['another issuer', forge({ alg: 'HS256' }, { ...valid, iss: 'someone-else' }), 'wrong_issuer'],
    ['no issuer', forge({ alg: 'HS256' }, without('iss')), 'wrong_issuer'],
    ['no sub', forge({ alg: 'HS256' }, without('sub')), 'missing_claims'],
    ['blank name', forge({ alg: 'HS256' }, { ...valid, name: '  ' }), 'missing_claims'],
  ])('refuses %s', (_label, token, problem) => {
    expect(() => verifySessionToken(token, keys, now)).toThrow(expect.objectContaining({ problem }));
  });

  it('refuses a token signed for a long lifetime by our own signer', () => {
    const token = signSessionToken({ id: 'u', name: 'n' }, keys, { nowMs: now, ttlS: 90 * 86_400 });
    expect(() => verifySessionToken(token, keys, now)).toThrow(expect.objectContaining({ problem: 'lifetime_too_long' }));
  });
});
