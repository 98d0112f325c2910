import { ChatMessage, compileValidator, roomChannel } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';
import { chatRow, type ChatEventPayload, type ChatItem, type ChatRowWire } from '@onair/room-client';
import { createCoalescer } from './coalescer';
import type { TriggerQueue } from './trigger-queue';

export type { ChatItem };

const validator = compileValidator(ChatMessage);

/** Pusher refuses events over 10 KB; stay under with room for the envelope. */
const MAX_EVENT_BYTES = 9_500;

/**
 * Splits a room's items into `chat` events under the size limit, each naming the first and last
 * stream sequence it covers, so a client can tell when it missed one.
 */
export function chatEvents(channel: string, items: ChatItem[], prev?: number): Array<{ channel: string; name: string; data: string }> {
  const events: Array<{ channel: string; name: string; data: string }> = [];
  let current: ChatRowWire[] = [];
  let size = 0;
  const push = () => {
    if (current.length === 0) return;
    const payload: ChatEventPayload = {
      seq: [current[0]![0], current.at(-1)![0]],
      ...(prev !== undefined ? { prev } : {}),
      platform: items[0]!.platform,
      messages: current,
    };
    prev = current.at(-1)![0];
    events.push({ channel, name: 'chat', data: JSON.stringify(payload) });
    current = [];
    size = 0;
  };
  for (const item of items) {
    const row = chatRow(item);
    const rowSize = Buffer.byteLength(JSON.stringify(row)) + 1;
    if (size + rowSize > MAX_EVENT_BYTES) push();
    current.push(row);
    size += rowSize;
  }
  push();
  return events;
}

/**
 * Fan-out of the chat stream: each message joins its room's coalescing window and the batch is acked
 * once every message in it has been handed to the Pusher server.
 */
export function createChatFanout(options: { triggers: TriggerQueue; windowMs: number }) {
  // The last sequence sent per room, so each event names the one before it and a client that lacks it
  // knows it missed something. Bounded: a forgotten room's next event simply carries no `prev`.
  const lastSent = new Map<string, number>();
  const coalescer = createCoalescer<ChatItem>({
    windowMs: options.windowMs,
    send: async (channel, items) => {
      const events = chatEvents(channel, items, lastSent.get(channel));
      lastSent.delete(channel);
      lastSent.set(channel, items.at(-1)!.seq);
      if (lastSent.size > 100_000) lastSent.delete(lastSent.keys().next().value!);
      await Promise.all(events.map((event) => options.triggers.send(event)));
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
