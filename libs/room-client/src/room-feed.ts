/**
 * The browser side of gap recovery. Pusher (and Soketi) deliver an event only to sockets subscribed at that
 * moment: a client that reconnects has silently lost what was sent meanwhile. This helper wraps a pusher-js
 * client for one room: it renders chat in stream-sequence order, exactly once, and fills holes from the
 * gateway's `GET /v1/rooms/:roomId/messages?after=<seq>` when it resubscribes after a reconnect or when an
 * event names a previous message it never saw.
 *
 * No imports, no Node APIs: the gateway bundles this file for its room page, and apps bundle it themselves.
 */

/** A chat message as the gateway sends it (inside a `chat` event) and as the history endpoint returns it. */
export interface ChatItem {
  /** Chat stream sequence: unique, increasing in publish order across all rooms. */
  seq: number;
  id: string;
  platform: string;
  sender: { id: string; name: string };
  content: string;
  sentAt: string;
}

/**
 * One message inside a `chat` event, as a row: `[seq, id, senderId, senderName, content, sentAtMs]`.
 * Rows, not objects, because a hot room's cost is bytes per recipient: Soketi parses and re-serialises
 * every event once per socket, and in the Pusher frame each quote of the event's JSON is escaped. Rows
 * halve the frame and that per-recipient work (BENCHMARKS.md, realtime).
 */
export type ChatRowWire = [seq: number, id: string, senderId: string, senderName: string, content: string, sentAtMs: number];

/** The `chat` event: the messages, the first and last sequence they cover, and the room's message sent before them. */
export interface ChatEventPayload {
  seq: [number, number];
  /** The room's previous message's sequence, as the sending gateway knows it (absent for its first). */
  prev?: number;
  /** Platform of every message in the event (a room belongs to one). */
  platform: string;
  messages: ChatRowWire[];
}

/** The wire row of a message (the gateway's side). */
export function chatRow(item: ChatItem): ChatRowWire {
  return [item.seq, item.id, item.sender.id, item.sender.name, item.content, Date.parse(item.sentAt)];
}

/**
 * The messages of a `chat` event (the browser's side). Events of the earlier form (objects) are read
 * too: during a rollout, gateways of both versions share the Pusher server and open pages.
 */
export function chatItems(payload: ChatEventPayload | { messages: ChatItem[] }): ChatItem[] {
  return payload.messages.map((m: ChatRowWire | ChatItem) => {
    if (!Array.isArray(m)) return m;
    const [seq, id, senderId, senderName, content, sentAtMs] = m;
    return { seq, id, platform: (payload as ChatEventPayload).platform, sender: { id: senderId, name: senderName }, content, sentAt: new Date(sentAtMs).toISOString() };
  });
}

/** What the feed needs of a pusher-js channel. */
export interface ChannelLike {
  bind(event: string, callback: (data: any) => void): unknown;
  unbind(event?: string, callback?: (data: any) => void): unknown;
}

/** What the feed needs of a pusher-js client. */
export interface PusherLike {
  subscribe(channel: string): ChannelLike;
  unsubscribe(channel: string): void;
}

export interface RoomFeedOptions {
  pusher: PusherLike;
  /** Room id as the gateway names it: `r1`, `kick-123`. */
  roomId: string;
  /** The gateway's base URL, e.g. `http://127.0.0.1:8082` (no trailing slash). */
  gatewayUrl: string;
  /** Loads the room's history after this sequence first (0: everything still kept). Omitted: only what comes next. */
  after?: number;
  /** Messages kept, newest last; older ones drop off. Default 500. */
  keep?: number;
  /** Called with the whole ordered list whenever it changes. */
  onChange(messages: readonly ChatItem[]): void;
  /** Backfill failures (the feed retries on the next reconnect or gap). */
  onError?(error: unknown): void;
  fetch?: typeof fetch;
}

export interface RoomFeed {
  /** The room's public channel, for other events: `viewers`, `gift`, `live`, `room-state`. */
  readonly channel: ChannelLike;
  /** The ordered messages now held. */
  messages(): readonly ChatItem[];
  /** Resolves when no backfill is running (tests, and pages that want a settled view). */
  idle(): Promise<void>;
  close(): void;
}

export function roomChannelName(roomId: string): string {
  return `room-${roomId}`;
}

export function createRoomFeed(options: RoomFeedOptions): RoomFeed {
  const keep = options.keep ?? 500;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const channelName = roomChannelName(options.roomId);
  let list: ChatItem[] = [];
  const seen = new Set<number>();
  /** Sequences at or below this are history we chose not to load: never a gap. */
  let floor = options.after ?? -1;
  let subscribedOnce = false;
  let closed = false;
  let backfilling: Promise<void> = Promise.resolve();

  const highestSeen = (): number => (list.length > 0 ? list[list.length - 1]!.seq : floor);

  const merge = (items: ChatItem[]) => {
    let changed = false;
    for (const item of items) {
      if (item.seq <= floor) continue;
      if (seen.has(item.seq)) continue;
      seen.add(item.seq);
      // Usually appends; a late event from another gateway replica slots in by sequence.
      let at = list.length;
      while (at > 0 && list[at - 1]!.seq > item.seq) at--;
      list.splice(at, 0, item);
      changed = true;
    }
    if (list.length > keep) {
      for (const dropped of list.splice(0, list.length - keep)) seen.delete(dropped.seq);
      floor = Math.max(floor, list[0]!.seq - 1);
    }
    if (changed && !closed) options.onChange(list);
  };

  /** Pages through the history after `after` until it is empty or reaches `until`. Runs one at a time. */
  const backfill = (after: number, until = Infinity) => {
    backfilling = backfilling.then(async () => {
      let cursor = after;
      try {
        while (!closed && cursor < until) {
          const url = `${options.gatewayUrl}/v1/rooms/${encodeURIComponent(options.roomId)}/messages?after=${cursor}&limit=200`;
          const response = await doFetch(url);
          if (!response.ok) throw new Error(`history ${response.status}: ${await response.text()}`);
          const page = (await response.json()) as { items: ChatItem[]; next: number };
          if (page.items.length === 0) break;
          merge(page.items);
          cursor = page.next;
        }
      } catch (error) {
        options.onError?.(error);
      }
    });
    return backfilling;
  };

  const onChat = (payload: ChatEventPayload) => {
    const first = payload.seq[0];
    if (seen.size === 0 && options.after === undefined) {
      // The first message this page sees: nothing before it was asked for.
      floor = Math.max(floor, payload.prev ?? first - 1);
    } else if (payload.prev !== undefined && payload.prev > floor && !seen.has(payload.prev)) {
      // The sender says the room had a message we never got (dropped while we were away, or not yet here).
      const before = list.filter((m) => m.seq < payload.prev!);
      backfill(before.length > 0 ? before[before.length - 1]!.seq : floor, first);
    }
    merge(chatItems(payload));
  };

  const onSubscribed = () => {
    // Pusher resubscribes by itself after a reconnect; what was sent in between is only in the history.
    if (subscribedOnce) backfill(highestSeen());
    else if (options.after !== undefined) backfill(options.after);
    subscribedOnce = true;
  };

  const channel = options.pusher.subscribe(channelName);
  channel.bind('chat', onChat);
  channel.bind('pusher:subscription_succeeded', onSubscribed);

  return {
    channel,
    messages: () => list,
    async idle() {
      let current: Promise<void>;
      do {
        current = backfilling;
        await current;
      } while (current !== backfilling);
    },
    close() {
      closed = true;
      channel.unbind('chat', onChat);
      channel.unbind('pusher:subscription_succeeded', onSubscribed);
      options.pusher.unsubscribe(channelName);
    },
  };
}
