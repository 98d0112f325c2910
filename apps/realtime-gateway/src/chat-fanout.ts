import { ChatMessage, compileValidator } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';
import { createCoalescer } from './coalescer';
import type { TriggerQueue } from './trigger-queue';

const validator = compileValidator(ChatMessage);

/** A chat message as browsers receive it inside a `chat` event. */
export interface ChatItem {
  /** Chat stream sequence: clients detect gaps and order with it. */
  seq: number;
  id: string;
  platform: string;
  sender: { id: string; name: string };
  content: string;
  sentAt: string;
}

/** Pusher channel of a room: first-party rooms by id, platform channels as `<platform>-<id>`. */
export function roomChannel(platform: string, channelId: string): string {
  return platform === 'onair' ? `room-${channelId}` : `room-${platform}-${channelId}`;
}

/** Pusher refuses events over 10 KB; stay under with room for the envelope. */
const MAX_EVENT_BYTES = 9_500;

/**
 * Splits a room's items into `chat` events under the size limit, each naming the first and last
 * stream sequence it covers, so a client can tell when it missed one.
 */
export function chatEvents(channel: string, items: ChatItem[]): Array<{ channel: string; name: string; data: string }> {
  const events: Array<{ channel: string; name: string; data: string }> = [];
  let current: ChatItem[] = [];
  let size = 0;
  const push = () => {
    if (current.length === 0) return;
    const payload = { seq: [current[0]!.seq, current.at(-1)!.seq], messages: current };
    events.push({ channel, name: 'chat', data: JSON.stringify(payload) });
    current = [];
    size = 0;
  };
  for (const item of items) {
    const itemSize = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (size + itemSize > MAX_EVENT_BYTES) push();
    current.push(item);
    size += itemSize;
  }
  push();
  return events;
}

/**
 * Fan-out of the chat stream: each message joins its room's coalescing window and the batch is acked
 * once every message in it has been handed to the Pusher server.
 */
export function createChatFanout(options: { triggers: TriggerQueue; windowMs: number }) {
  const coalescer = createCoalescer<ChatItem>({
    windowMs: options.windowMs,
    send: async (channel, items) => {
      await Promise.all(chatEvents(channel, items).map((event) => options.triggers.send(event)));
    },
  });
  return {
    coalescer,
    async handle(batch: JsMsg[], context: BatchContext): Promise<void> {
      const decoded = await decodeBatch(batch, validator, context, 'ChatMessage');
      await Promise.all(
        decoded.map(({ msg, value }) =>
          coalescer.add(roomChannel(value.platform, value.channelId), {
            seq: msg.info.streamSequence,
            id: value.messageId,
            platform: value.platform,
            sender: { id: value.senderId, name: value.senderUsername },
            content: value.content,
            sentAt: value.sentAt,
          }),
        ),
      );
    },
  };
}
