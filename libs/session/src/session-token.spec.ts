import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signSessionToken, verifySessionToken } from './session-token';

const secret = 'test-secret-with-enough-length-000';
const now = Date.UTC(2026, 10, 23, 12);

function forge(header: object, payload: object, key = secret): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${h}.${p}.${createHmac('sha256', key).update(`${h}.${p}`).digest('base64url')}`;
}

describe('session tokens', () => {
  it('round-trips a user', () => {
    const token = signSessionToken({ id: 'u1', name: 'Alice' }, secret, { nowMs: now });
    expect(verifySessionToken(token, secret, now)).toEqual({ id: 'u1', name: 'Alice', ownsRooms: [] });
    const owner = signSessionToken({ id: 'u2', name: 'Bob', ownsRooms: ['room-1'] }, secret, { nowMs: now });
    expect(verifySessionToken(owner, secret, now).ownsRooms).toEqual(['room-1']);
  });

  it.each([
    ['garbage', 'not-a-token', 'malformed'],
    ['wrong secret', forge({ alg: 'HS256' }, { sub: 'u', name: 'n' }, 'other'), 'bad_signature'],
    ['alg none', forge({ alg: 'none' }, { sub: 'u', name: 'n' }), 'bad_algorithm'],
    ['expired', forge({ alg: 'HS256' }, { sub: 'u', name: 'n', exp: now / 1000 - 120 }), 'expired'],
    ['not yet valid', forge({ alg: 'HS256' }, { sub: 'u', name: 'n', nbf: now / 1000 + 120 }), 'not_yet_valid'],
    ['no sub', forge({ alg: 'HS256' }, { name: 'n' }), 'missing_claims'],
    ['blank name', forge({ alg: 'HS256' }, { sub: 'u', name: '  ' }), 'missing_claims'],
  ])('refuses %s', (_label, token, problem) => {
    expect(() => verifySessionToken(token, secret, now)).toThrow(expect.objectContaining({ problem }));
  });
});
