import type { ChatMessage, PlatformEvent, Topology } from '@onair/contracts';
import type { Messaging } from '@onair/messaging';

/** A chat message in a Kick channel, at `at` (ms), from `user`. */
export function chat(channelId: string, messageId: string, user: string, content: string, at: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    platform: 'kick',
    messageId,
    channelId,
    senderId: user,
    senderUsername: `name-${user}`,
    content,
    sentAt: new Date(at).toISOString(),
    receivedAt: new Date(at + 200).toISOString(),
    ...extra,
  };
}

/** Kick's `livestream.status.updated` for a channel going live at `startedAt` (ms), as ingest publishes it. */
export function streamStarted(channelId: string, startedAt: number, eventId = `live-${channelId}-${startedAt}`): PlatformEvent {
  return {
    platform: 'kick',
    eventId,
    type: 'livestream.status.updated',
    channelId,
    receivedAt: new Date(startedAt + 1000).toISOString(),
    data: { broadcaster: { user_id: Number(channelId) }, is_live: true, title: 'live', started_at: new Date(startedAt).toISOString(), ended_at: null },
  };
}

/**
 * Publishes chat messages to the chat stream with up to `window` in flight. `msgIdSuffix` lets a test store
 * the same message twice (a replay JetStream no longer remembers, or a second delivery path).
 */
export async function publishChat(messaging: Messaging, topology: Topology, messages: ChatMessage[], msgIdSuffix = '', window = 200): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const m = messages[next++]!;
      await messaging.js.publish(topology.chat.subject(m.platform, m.channelId), JSON.stringify(m), { msgID: `${m.platform}:${m.messageId}${msgIdSuffix}` });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}

export async function publishEvent(messaging: Messaging, topology: Topology, event: PlatformEvent): Promise<void> {
  await messaging.js.publish(topology.events.subject(event.platform, event.channelId, event.type), JSON.stringify(event), { msgID: `${event.platform}:${event.eventId}` });
}
