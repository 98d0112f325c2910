import { describe, expect, it } from 'vitest';
import { uuidV7, uuidV7Time } from './message-ids';
import { parseRoomId } from './rooms';
import { compileValidator, isIsoInstant, KickChatMessageSent } from './messages';

describe('UUIDv7 message ids', () => {
  it.each([0, Date.UTC(2026, 11, 1), Date.UTC(2028, 1, 29, 23, 59, 50), 2 ** 48 - 1])('carries its time (%d ms)', (ms) => {
    const id = uuidV7(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7Time(id)).toBe(ms);
  });

  it('makes distinct ids in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => uuidV7(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });

  it.each([
    ['a v4 uuid', '0b8e3e4c-5f1a-4c2b-9d3e-1a2b3c4d5e6f'],
    ['upper case', uuidV7(1).toUpperCase()],
    ['a bad variant', '01890a5d-ac96-774b-1cb4-1e0a4f3a1b2c'],
    ['free text', 'c-1'],
    ['empty', ''],
  ])('refuses %s', (_label, id) => {
    expect(uuidV7Time(id)).toBeUndefined();
  });
});

describe('room ids', () => {
  it.each([
    ['r1', { platform: 'onair', channelId: 'r1' }],
    ['kick-lounge', { platform: 'onair', channelId: 'kick-lounge' }],
    ['kick-123', { platform: 'kick', channelId: '123' }],
    [`kick-${Number.MAX_SAFE_INTEGER}`, { platform: 'kick', channelId: String(Number.MAX_SAFE_INTEGER) }],
  ])('%s', (roomId, expected) => {
    expect(parseRoomId(roomId)).toEqual(expected);
  });

  it.each(['kick-9007199254740993', 'kick-99999999999999999999', 'kick-0123', '', 'a/b', 'x'.repeat(65)])('refuses %j', (roomId) => {
    expect(parseRoomId(roomId)).toBeUndefined();
  });
});

describe('Kick ids', () => {
  const validator = compileValidator(KickChatMessageSent);
  const body = (userId: number) => ({ message_id: 'm1', broadcaster: { user_id: userId }, sender: { user_id: 1, username: 'a' }, content: 'hi' });
  it('takes ids up to 2^53 - 1 and refuses larger ones (a JSON parser would round them)', () => {
    expect(validator.check(body(Number.MAX_SAFE_INTEGER))).toBe(true);
    expect(validator.check(JSON.parse('{"message_id":"m1","broadcaster":{"user_id":1e21},"sender":{"user_id":1,"username":"a"},"content":"hi"}'))).toBe(false);
    expect(validator.check(body(2 ** 53))).toBe(false);
  });
});

describe('ISO instants on the wire', () => {
  it.each(['2026-11-23T12:00:00Z', '2028-02-29T23:59:59.999Z', '2026-12-31T23:59:59+01:00', '2026-01-01T00:00:00.123456789Z'])('takes %s', (at) => {
    expect(isIsoInstant(at)).toBe(true);
  });
  it.each(['2026-02-30T12:00:00Z', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T12:60:00Z', '2026-13-01T00:00:00Z', '2026-11-23 12:00:00Z', 'yesterday'])(
    'refuses %s',
    (at) => {
      expect(isIsoInstant(at)).toBe(false);
    },
  );
});
