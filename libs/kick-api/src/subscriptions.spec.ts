import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKickClient } from './client';
import { KickApiError } from './errors';
import { startFakeKick, type FakeKick } from './testing';

let kick: FakeKick;

beforeEach(async () => {
  kick = await startFakeKick();
});

afterEach(async () => {
  await kick.close();
});

const client = () =>
  createKickClient({
    apiBase: kick.apiBase,
    oauthBase: kick.oauthBase,
    clientId: kick.clientId,
    clientSecret: kick.clientSecret,
    now: () => Date.UTC(2026, 10, 23, 12),
    sleep: async () => undefined,
  });

describe('channel by slug', () => {
  it('finds a channel by its slug, case-insensitively, and null for an unknown one', async () => {
    kick.setChannel({ broadcasterUserId: 42, slug: 'somebody', isLive: false });
    const kickClient = client();
    expect(await kickClient.getChannelBySlug('Somebody')).toMatchObject({ broadcasterUserId: 42, slug: 'somebody', isLive: false });
    expect(await kickClient.getChannelBySlug('nobody')).toBeNull();
    const asked = kick.requests.filter((r) => r.endpoint === 'channels');
    // One of slug or broadcaster_user_id, never both (Kick answers 400 to both).
    expect(asked.every((r) => r.ids.length === 0 && r.status === 200)).toBe(true);
  });

  it('surfaces Kick being down after its retries', async () => {
    kick.failNext(4, 503);
    await expect(client().getChannelBySlug('somebody')).rejects.toMatchObject({ name: 'KickApiError', status: 503 });
  });
});

describe('event subscriptions', () => {
  it('creates, lists by broadcaster and deletes by repeated id', async () => {
    const kickClient = client();
    const created = await kickClient.createEventSubscriptions(7, [
      { name: 'chat.message.sent', version: 1 },
      { name: 'kicks.gifted', version: 1 },
      { name: 'no.such.event', version: 1 },
    ]);
    expect(created.map((c) => [c.name, c.subscriptionId !== null, c.error])).toEqual([
      ['chat.message.sent', true, null],
      ['kicks.gifted', true, null],
      ['no.such.event', false, 'invalid event'],
    ]);
    const post = kick.requests.find((r) => r.endpoint === 'subscriptions' && r.method === 'POST');
    expect(post?.ids).toEqual([7]);
    kick.addSubscription(8, 'chat.message.sent');

    const listed = await kickClient.listEventSubscriptions(7);
    expect(listed.map((s) => s.event).sort()).toEqual(['chat.message.sent', 'kicks.gifted']);
    expect(listed.every((s) => s.broadcasterUserId === 7 && s.version === 1 && s.createdAt !== null)).toBe(true);

    await kickClient.deleteEventSubscriptions([...listed.map((s) => s.id), listed[0]!.id]);
    expect(kick.subscriptions(7)).toEqual([]);
    expect(kick.subscriptions(8)).toHaveLength(1);
    const del = kick.requests.filter((r) => r.endpoint === 'subscriptions' && r.method === 'DELETE');
    expect(del.map((r) => r.status)).toEqual([204]);
    // Deleting ids Kick no longer has is not an error.
    await kickClient.deleteEventSubscriptions(['01GONE']);
  });

  it('keeps listing subscriptions the fake stopped delivering', async () => {
    const kickClient = client();
    await kickClient.createEventSubscriptions(9, [{ name: 'chat.message.sent', version: 1 }]);
    expect(kick.delivers(9, 'chat.message.sent')).toBe(true);
    kick.stopDelivering(9);
    expect(kick.delivers(9, 'chat.message.sent')).toBe(false);
    expect(await kickClient.listEventSubscriptions(9)).toHaveLength(1);
  });

  it('does not retry a refused create, and retries a 5xx', async () => {
    const kickClient = client();
    kick.failNext(1, 400);
    await expect(kickClient.createEventSubscriptions(1, [{ name: 'chat.message.sent', version: 1 }])).rejects.toBeInstanceOf(KickApiError);
    kick.failNext(1, 500);
    const created = await kickClient.createEventSubscriptions(1, [{ name: 'chat.message.sent', version: 1 }]);
    expect(created).toHaveLength(1);
    expect(kick.subscriptions(1)).toHaveLength(1);
  });
});
