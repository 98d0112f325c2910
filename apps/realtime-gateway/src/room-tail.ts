import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { ChatMessage, compileValidator, type Topology } from '@onair/contracts';
import type { Messaging } from '@onair/messaging';
import type { Logger } from '@onair/service-kit';
import type { ChatItem } from './chat-fanout';

const validator = compileValidator(ChatMessage);

/**
 * The newest messages of every room this replica has seen, in memory: what a joining viewer asks for first.
 *
 * Why a tail here: a join's first request is "the room's newest N". Every gateway replica reads the whole chat
 * stream through its own ordered consumer (deliver new; not the shared fan-out consumer, whose messages are
 * split between replicas), so for any room that has spoken since this replica started, the newest messages
 * are a memory read: no round trip, whatever the room's size or the stream's retention. What is older than
 * the tail comes from Postgres by `(platform, channel_id, stream_seq)` (history.ts).
 *
 * Cost: one JSON decode per chat message per replica (~5-10 µs), and memory bounded by `perRoom` ×
 * `rooms` items (LRU on rooms: quiet rooms leave, hot ones stay).
 */
export interface RoomTail {
  /**
   * The room's tail: its newest items (ascending) and `completeFrom`, the lowest sequence from which the tail
   * holds every message of the room (older ones may exist, in Postgres). A room this replica knows nothing
   * about (evicted, say) has `completeFrom: Infinity`.
   */
  get(channel: string): { items: readonly ChatItem[]; completeFrom: number };
  /** The sequence from which this replica has seen every message of every room (its consumer's start). */
  readonly startSeq: number | undefined;
  /**
   * Resolves true once the tail has read up to `seq`, false after `timeoutMs` (the fan-out asks: its own
   * consumer and the tail's read the same stream, and either may be first).
   */
  reached(seq: number, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

interface Entry {
  items: ChatItem[];
  completeFrom: number;
}

export async function startRoomTail(options: {
  messaging: Messaging;
  topology: Topology;
  logger: Logger;
  /** Messages kept per room. */
  perRoom: number;
  /** Rooms kept (least recently spoken evicted first). */
  rooms: number;
  /** A room's key for a message: its Pusher channel (so the fan-out and history agree on rooms). */
  channelOf(platform: string, channelId: string): string;
}): Promise<RoomTail> {
  const entries = new Map<string, Entry>();
  let startSeq: number | undefined;
  let evicted = false;
  /** The newest stream sequence the tail has read: it holds every room's messages up to here. */
  let seenUpTo = 0;
  /** Fan-out sends waiting for the tail to reach a sequence, oldest first. */
  let waiters: Array<{ seq: number; resolve(reached: boolean): void }> = [];
  const { stream } = options.topology.chat;
  // The stream's next sequence when we start: every message from it on passes through this tail.
  const info = await options.messaging.jsm.streams.info(stream);
  startSeq = info.state.last_seq + 1;
  seenUpTo = info.state.last_seq;
  const consumer = await options.messaging.js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq });
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 1000 });

  const done = (async () => {
    for await (const msg of messages) {
      seenUpTo = msg.seq;
      if (waiters.length > 0) wake();
      let value: unknown;
      try {
        value = msg.json();
      } catch {
        continue;
      }
      if (!validator.check(value)) continue;
      const key = options.channelOf(value.platform, value.channelId);
      let entry = entries.get(key);
      if (entry) {
        entries.delete(key); // re-insert: most recently spoken last
      } else {
        // A room never evicted has had no message since startSeq; one that was evicted lost its older tail.
        entry = { items: [], completeFrom: evicted ? msg.seq : startSeq! };
        if (entries.size >= options.rooms) {
          entries.delete(entries.keys().next().value as string);
          evicted = true;
        }
      }
      entries.set(key, entry);
      entry.items.push({
        seq: msg.seq,
        id: value.messageId,
        platform: value.platform,
        sender: { id: value.senderId, name: value.senderUsername },
        content: value.content,
        sentAt: value.sentAt,
      });
      if (entry.items.length > options.perRoom) {
        const dropped = entry.items.splice(0, entry.items.length - options.perRoom);
        entry.completeFrom = dropped.at(-1)!.seq + 1;
      }
    }
  })().catch((error: unknown) => options.logger.error({ err: error }, 'room tail consumer ended'));
  // Waiters wake on the next turn: by then the loop body that raised seenUpTo has stored its message.
  let wakeScheduled = false;
  function wake() {
    if (wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(() => {
      wakeScheduled = false;
      const ready = waiters.filter((w) => w.seq <= seenUpTo);
      if (ready.length === 0) return;
      waiters = waiters.filter((w) => w.seq > seenUpTo);
      for (const w of ready) w.resolve(true);
    });
  }

  return {
    get(channel) {
      // A room not held: silent since startSeq if no room was ever evicted; otherwise unknown.
      return entries.get(channel) ?? { items: [], completeFrom: evicted ? Infinity : startSeq! };
    },
    get startSeq() {
      return startSeq;
    },
    reached(seq, timeoutMs) {
      if (seq <= seenUpTo) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = {
          seq,
          resolve: (reached: boolean) => {
            clearTimeout(timer);
            resolve(reached);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async stop() {
      await messages.close();
      await done;
      for (const w of waiters.splice(0)) w.resolve(false);
    },
  };
}

/** Before the tail starts: it knows nothing, so every history read goes to Postgres. */
export const EMPTY_TAIL: RoomTail = {
  get: () => ({ items: [], completeFrom: Infinity }),
  startSeq: undefined,
  reached: async () => false,
  stop: async () => undefined,
};
