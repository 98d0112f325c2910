import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** Signs webhooks the way Kick does, with a key pair made for the test. */
export interface KickSigner {
  publicKeyPem: string;
  headers(body: string, options: { id: string; type: string; timestamp: string }): Record<string, string>;
}

export function createKickSigner(): KickSigner {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    headers: (body, options) => kickHeaders(privateKey, body, options),
  };
}

export function kickHeaders(
  privateKey: KeyObject,
  body: string,
  options: { id: string; type: string; timestamp: string },
): Record<string, string> {
  const signature = sign('sha256', Buffer.from(`${options.id}.${options.timestamp}.${body}`), privateKey).toString('base64');
  return {
    'content-type': 'application/json',
    'kick-event-message-id': options.id,
    'kick-event-subscription-id': 'sub-1',
    'kick-event-message-timestamp': options.timestamp,
    'kick-event-signature': signature,
    'kick-event-type': options.type,
    'kick-event-version': '1',
  };
}

/** A `chat.message.sent` body as Kick documents it. */
export function kickChatBody(messageId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    message_id: messageId,
    replies_to: null,
    broadcaster: { is_anonymous: false, user_id: 123456789, username: 'streamer', is_verified: true, profile_picture: null, channel_slug: 'streamer', identity: null },
    sender: { is_anonymous: false, user_id: 987654321, username: 'viewer', is_verified: false, profile_picture: null, channel_slug: 'viewer', identity: { username_color: '#FF5733', badges: [] } },
    content: 'Hello [emote:4148074:HYPERCLAPH]',
    emotes: [{ emote_id: '4148074', positions: [{ s: 6, e: 33 }] }],
    created_at: '2026-11-23T12:00:00Z',
    ...overrides,
  };
}
