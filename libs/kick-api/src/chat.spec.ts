import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKickChatSender } from './chat';
import { KickApiError } from './errors';
import { startFakeKick, type FakeKick } from './testing';

let kick: FakeKick;
beforeAll(async () => {
  kick = await startFakeKick();
  kick.addUserToken('bot-user-token');
});
afterAll(() => kick?.close());

describe('Kick chat sender', () => {
  it('posts a message into a channel as the bot account, replying to the command', async () => {
    const sender = createKickChatSender({ apiBase: kick.apiBase, token: 'bot-user-token' });
    const { messageId } = await sender.send({ broadcasterUserId: 42, content: 'clip saved', replyToMessageId: 'm-1' });
    expect(messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(kick.chatMessages.at(-1)).toMatchObject({ type: 'user', broadcasterUserId: 42, content: 'clip saved', replyToMessageId: 'm-1', token: 'bot-user-token' });
  });

  it('cuts content to Kick\'s 500 characters', async () => {
    const sender = createKickChatSender({ apiBase: kick.apiBase, token: 'bot-user-token' });
    await sender.send({ broadcasterUserId: 42, content: '😀'.repeat(600) });
    expect([...kick.chatMessages.at(-1)!.content]).toHaveLength(500);
  });

  it('fails with a KickApiError naming the status when the token is refused', async () => {
    const sender = createKickChatSender({ apiBase: kick.apiBase, token: 'not-a-token' });
    await expect(sender.send({ broadcasterUserId: 42, content: 'hi' })).rejects.toMatchObject({ name: 'KickApiError', status: 401, endpoint: 'chat' });
    await expect(sender.send({ broadcasterUserId: 42, content: 'hi' })).rejects.toBeInstanceOf(KickApiError);
  });
});
