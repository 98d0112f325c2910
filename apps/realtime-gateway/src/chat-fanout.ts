import { ChatMessage, compileValidator, roomChannel } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';
import { chatRow, type ChatEventPayload, type ChatItem, type ChatRowWire } from '@onair/room-client';
import { Counter, type Registry } from 'prom-client';
import { createCoalescer } from './coalescer';
import type { TriggerQueue } from './trigger-queue';

export type { ChatItem };

const validator = compileValidator(ChatMessage);

/** Pusher refuses events over 10 KB; stay under with room for the envelope. */
const MAX_EVENT_BYTES = 9_500;

/**
 * The room's message before each of a window's messages, as this replica's tail saw the stream: undefined
 * where it cannot say (the message is older than the tail, or the first the tail holds of the room).
 */
export type PredecessorOf = (seq: number) => number | undefined;

/** Reads predecessors from a room's tail items (ascending, every message of the room from the first held on). */
export function tailPredecessors(tailItems: readonly ChatItem[]): PredecessorOf {
  return (seq) => {
    let lo = 0;
    let hi = tailItems.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = tailItems[mid]!.seq;
      if (at === seq) return mid > 0 ? tailItems[mid - 1]!.seq : undefined;
      if (at < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  };
}

/** A `chat` event for the trigger queue, with what its payload says for the metrics. */
export interface ChatEventOut {
  channel: string;
  name: 'chat';
  data: string;
  /** The payload names `prev`; it is `whole`. */
  named: boolean;
  whole: boolean;
}

/**
 * Splits a room's window into `chat` events under the size limit, in sequence order. Each event names the
 * room's message before its first (`prev`) when the tail knows it, so a client that lacks that message knows
 * it missed something; and says `whole` when it holds every message of the room from `prev` to its last, so
 * the client may take that range as complete. A break — an item whose predecessor is not the item before
 * it in the window (a redelivery from long ago, or messages another gateway replica fans out) — starts a
 * new event, so the runs on either side stay whole.
 *
 * Why from the tail and not "the last this gateway sent": gateway replicas share the fan-out consumer, so a
 * replica sees only part of a room, and a nak'd batch comes back after later ones. A chain of what one
 * replica sent claims ranges complete that are not, and a client trusting it skips a catch-up it needs.
 */
export function chatEvents(channel: string, items: ChatItem[], prevOf: PredecessorOf = () => undefined): ChatEventOut[] {
  const events: ChatEventOut[] = [];
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  let current: ChatRowWire[] = [];
  let prev: number | undefined;
  let whole = false;
  let size = 0;
  const push = () => {
    if (current.length === 0) return;
    const payload: ChatEventPayload = {
      seq: [current[0]![0], current.at(-1)![0]],
      ...(prev !== undefined ? { prev } : {}),
      ...(whole ? { whole: true } : {}),
      platform: items[0]!.platform,
      messages: current,
    };
    events.push({ channel, name: 'chat', data: JSON.stringify(payload), named: prev !== undefined, whole });
    current = [];
    size = 0;
  };
  for (const item of sorted) {
    const last = current.at(-1)?.[0];
    if (item.seq === last) continue; // a redelivery of a message already in this window
    const before = prevOf(item.seq);
    const row = chatRow(item);
    const rowSize = Buffer.byteLength(JSON.stringify(row)) + 1;
    if (last !== undefined && (size + rowSize > MAX_EVENT_BYTES || (before !== undefined && before !== last))) push();
    if (current.length === 0) {
      prev = before;
      whole = before !== undefined;
    } else if (before === undefined) {
      whole = false;
    }
    current.push(row);
    size += rowSize;
  }
  push();
  return events;
}

/** What the fan-out needs of the replica's room tail (room-tail.ts). */
export interface TailView {
  get(channel: string): { items: readonly ChatItem[] };
  reached(seq: number, timeoutMs: number): Promise<boolean>;
}

/**
 * Fan-out of the chat stream: each message joins its room's coalescing window and the batch is acked
 * once every message in it has been handed to the Pusher server.
 */
export function createChatFanout(options: {
  triggers: TriggerQueue;
  windowMs: number;
  /** The replica's room tail (a getter: it starts after the fan-out is built). */
  tail: () => TailView;
  /**
   * How long a window waits for the tail to read its newest message (both consume the same stream; either
   * may be first). Past it the window goes out with what the tail knows: events without `prev` for the rest.
   * The tail must also hold a window's worth of a room (its per-room size above messages/s × window), or a
   * hot window's first messages have left it and go out without `prev`.
   */
  tailWaitMs?: number;
  registry?: Registry;
}) {
  const tailWaitMs = options.tailWaitMs ?? 250;
  const registers = options.registry ? [options.registry] : [];
  const windows = new Counter({ name: 'gateway_chat_windows_total', help: 'Coalesced chat windows sent (one room each).', registers });
  // Events without `prev` mean the tail could not say (it lagged past tailWaitMs, or the room is older than
  // it); not whole, a window held a redelivery or another replica's share. Both cost clients precision, not messages.
  const events = new Counter({ name: 'gateway_chat_events_total', help: 'Chat events sent, by whether they name prev and are whole.', labelNames: ['prev', 'whole'], registers });
  const coalescer = createCoalescer<ChatItem>({
    windowMs: options.windowMs,
    send: async (channel, items) => {
      const tail = options.tail();
      await tail.reached(items.reduce((max, i) => Math.max(max, i.seq), 0), tailWaitMs);
      const sent = chatEvents(channel, items, tailPredecessors(tail.get(channel).items));
      windows.inc();
      for (const event of sent) events.inc({ prev: event.named ? 'named' : 'unknown', whole: event.whole ? 'yes' : 'no' });
      await Promise.all(sent.map(({ channel, name, data }) => options.triggers.send({ channel, name, data })));
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
