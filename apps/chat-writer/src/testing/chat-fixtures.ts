import type { ChatMessage } from '@onair/contracts';
import type { Messaging } from '@onair/messaging';
import type { Topology } from '@onair/contracts';

/** A valid chat message, numbered, spread over a few channels. */
export function chatMessage(i: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    platform: 'kick',
    messageId: `m-${i}`,
    channelId: `c-${i % 5}`,
    senderId: `u-${i % 97}`,
    senderUsername: `user${i % 97}`,
    content: `message number ${i}`,
    sentAt: new Date(Date.UTC(2026, 10, 23, 12, 0, 0) + i).toISOString(),
    receivedAt: new Date(Date.UTC(2026, 10, 23, 12, 0, 1) + i).toISOString(),
    ...overrides,
  };
}

/**
 * Publishes messages to the chat stream as ingest does (msgID = platform:id), keeping up to `window`
 * PubAcks in flight; resolves when all are stored.
 */
export async function publishChat(messaging: Messaging, topology: Topology, messages: ChatMessage[], window = 500): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const m = messages[next++]!;
      await messaging.js.publish(topology.chat.subject(m.platform, m.channelId), JSON.stringify(m), {
        msgID: `${m.platform}:${m.messageId}`,
      });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}
