import { describe, expect, it } from 'vitest';
import { bodyMessage, envelopeItems, parseChannel, parseUser } from './parse';

const live = {
  broadcaster_user_id: 668,
  slug: 'streamos',
  stream_title: 'Live coding',
  channel_description: '',
  banner_picture: '',
  category: { id: 15, name: 'Just Chatting', thumbnail: 'https://kick.com/c.jpg' },
  active_subscribers_count: 150,
  stream: { is_live: true, is_mature: false, language: 'en', start_time: '2026-06-06T12:00:00Z', viewer_count: 88 },
};

describe('parseChannel', () => {
  it('reads a live channel', () => {
    expect(parseChannel(live)).toEqual({
      broadcasterUserId: 668,
      slug: 'streamos',
      title: 'Live coding',
      category: { id: 15, name: 'Just Chatting' },
      isLive: true,
      viewerCount: 88,
      streamStartedAt: '2026-06-06T12:00:00.000Z',
      language: 'en',
      activeSubscribersCount: 150,
    });
  });

  it('accepts numbers sent as strings', () => {
    const parsed = parseChannel({ ...live, broadcaster_user_id: '668', active_subscribers_count: '3', stream: { ...live.stream, viewer_count: '88' } });
    expect(parsed).toMatchObject({ broadcasterUserId: 668, viewerCount: 88, activeSubscribersCount: 3 });
  });

  it('reads an offline channel with placeholders as nulls', () => {
    const parsed = parseChannel({
      broadcaster_user_id: 7,
      slug: 'quiet',
      stream_title: '',
      category: { id: 0, name: '', thumbnail: '' },
      stream: { is_live: false, viewer_count: 12, start_time: '0001-01-01T00:00:00Z', language: '' },
    });
    expect(parsed).toEqual({
      broadcasterUserId: 7,
      slug: 'quiet',
      title: null,
      category: null,
      isLive: false,
      viewerCount: 0,
      streamStartedAt: null,
      language: null,
      activeSubscribersCount: null,
    });
  });

  it('survives a missing or odd stream object', () => {
    expect(parseChannel({ broadcaster_user_id: 1, slug: 'a', stream: 'live!' })).toMatchObject({ isLive: false, viewerCount: 0 });
    expect(parseChannel({ broadcaster_user_id: 1, slug: 'a', stream: { is_live: 'yes', viewer_count: -4 } })).toMatchObject({ isLive: false });
    expect(parseChannel({ ...live, stream: { ...live.stream, viewer_count: 'many', start_time: 'soon' } })).toMatchObject({
      viewerCount: 0,
      streamStartedAt: null,
    });
  });

  it.each([
    ['null', null],
    ['an array', [live]],
    ['no id', { ...live, broadcaster_user_id: undefined }],
    ['a zero id', { ...live, broadcaster_user_id: 0 }],
    ['a fractional id', { ...live, broadcaster_user_id: 1.5 }],
    ['no slug', { ...live, slug: undefined }],
    ['a numeric slug', { ...live, slug: 12 }],
  ])('skips an item with %s', (_label, raw) => {
    expect(parseChannel(raw)).toBeNull();
  });
});

describe('parseUser', () => {
  it('reads id, name and picture and leaves email out', () => {
    expect(parseUser({ user_id: 5, name: 'kim', email: 'kim@example.com', profile_picture: 'https://p' })).toEqual({
      userId: 5,
      name: 'kim',
      profilePicture: 'https://p',
    });
    expect(parseUser({ user_id: '5', name: 'kim', profile_picture: '' })).toEqual({ userId: 5, name: 'kim', profilePicture: null });
  });

  it('skips users without id or name', () => {
    expect(parseUser({ name: 'kim' })).toBeNull();
    expect(parseUser({ user_id: 5, name: '' })).toBeNull();
  });
});

describe('envelope', () => {
  it('finds the data array and the message', () => {
    expect(envelopeItems({ data: [1], message: 'OK' })).toEqual([1]);
    expect(envelopeItems({ data: null, message: 'Unauthorized' })).toBeNull();
    expect(envelopeItems('<html>')).toBeNull();
    expect(bodyMessage({ data: null, message: 'Unauthorized' })).toBe('Unauthorized');
    expect(bodyMessage({ error: 'invalid_grant', error_description: 'bad secret' })).toBe('bad secret');
    expect(bodyMessage(undefined)).toBeNull();
  });
});
