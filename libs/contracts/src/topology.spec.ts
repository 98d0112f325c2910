import { describe, expect, it } from 'vitest';
import { createTopology } from './topology';
import { ChatMessage, compileValidator } from './messages';

describe('createTopology', () => {
  it('uses the plain production names without a namespace', () => {
    const t = createTopology();
    expect(t.chat.stream).toBe('CHAT');
    expect(t.chat.subject('kick', '42')).toBe('chat.msg.kick.42');
    expect(t.events.subject('kick', '42', 'kicks.gifted')).toBe('events.kick.42.kicks.gifted');
  });

  it('prefixes streams and subjects with a namespace so tests and tenants do not collide', () => {
    const t = createTopology('t-1');
    expect(t.chat.stream).toBe('T_1_CHAT');
    expect(t.chat.subjects).toBe('t-1.chat.msg.>');
    expect(t.deadLetter.subject('chat-writer-pg')).toBe('t-1.dlq.chat-writer-pg');
  });

  it('cannot be widened or split by ids carrying subject syntax', () => {
    const t = createTopology();
    expect(t.chat.subject('kick', 'a.b*>c d')).toBe('chat.msg.kick.a_b__c_d');
    expect(t.chat.subject('kick', '')).toBe('chat.msg.kick._');
  });

  it('rejects a namespace that is not a plain token', () => {
    expect(() => createTopology('a.b')).toThrow(/namespace/);
  });
});

describe('ChatMessage schema', () => {
  const validator = compileValidator(ChatMessage);
  const good = {
    platform: 'kick',
    messageId: 'm1',
    channelId: '1',
    senderId: '2',
    senderUsername: 'alice',
    content: 'hi',
    sentAt: '2026-11-23T10:00:00Z',
    receivedAt: '2026-11-23T10:00:00.123Z',
  };

  it('accepts a well-formed message', () => {
    expect(validator.check(good)).toBe(true);
  });

  it('names the first problem of a bad one', () => {
    expect(validator.check({ ...good, sentAt: 'yesterday' })).toBe(false);
    expect(validator.firstError({ ...good, sentAt: 'yesterday' })).toMatch(/^\/sentAt/);
    expect(validator.firstError({ ...good, extra: 1 })).toBeDefined();
  });
});
