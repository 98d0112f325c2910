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
  /**
   * The room's message before `seq[0]`, as the sending gateway's view of the whole stream knows it (absent
   * where it cannot say). A client that lacks it missed something.
   */
  prev?: number;
  /**
   * The event holds every message of the room after `prev` up to `seq[1]`. Absent when it may not: another
   * gateway replica fans out part of the room, or the event carries a redelivery from long ago.
   */
  whole?: true;
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
  /**
   * The room's newest messages to open with (one request), then live. Older ones only on `loadOlder()`.
   * Default 50. Ignored when `after` is given.
   */
  history?: number;
  /** Instead of the newest: load the history after this sequence first (resuming from a known point). */
  after?: number;
  /**
   * Most messages fetched to fill what was missed (a reconnect, a gap): beyond this the feed jumps to the
   * newest and records the hole in `gaps()` ("older messages not shown") instead of walking. Default 200.
   */
  maxBackfill?: number;
  /**
   * Backfill after a reconnect waits a random 0–this many ms, so a Soketi node's sockets, which all come back
   * at once, do not all ask the gateway at once. Default 1000.
   */
  reconnectJitterMs?: number;
  /**
   * How long an event that names a previous message the feed never got waits for it before the feed asks
   * the history. Gateway replicas share a room's fan-out, each flushing its own window, so a replica's event
   * often arrives just after a later one of another's; asking at once would make every viewer of a hot room
   * read the history several times a second. Default 300 (three of the gateway's 100 ms windows).
   */
  lateEventMs?: number;
  /** Messages kept, newest last; older ones drop off (raised by what `loadOlder()` brings). Default 500. */
  keep?: number;
  /** Called with the whole ordered list whenever it changes. */
  onChange(messages: readonly ChatItem[]): void;
  /** History request failures (a catch-up asks again, and marks a gap after its last try). */
  onError?(error: unknown): void;
  fetch?: typeof fetch;
  /** Randomness for the jitter (tests). */
  random?: () => number;
}

/** A hole the feed chose not to fill: messages with after < seq < before are not shown. */
export interface FeedGap {
  after: number;
  before: number;
}

export interface RoomFeed {
  /** The room's public channel, for other events: `viewers`, `gift`, `live`, `room-state`. */
  readonly channel: ChannelLike;
  /** The ordered messages now held. */
  messages(): readonly ChatItem[];
  /** Where messages were skipped after a long absence (render "older messages not shown" there). */
  gaps(): readonly FeedGap[];
  /** Loads the page before the oldest message held (scrolling back); resolves with how many came. */
  loadOlder(): Promise<number>;
  /** Resolves when no backfill is running (tests, and pages that want a settled view). */
  idle(): Promise<void>;
  close(): void;
}

export function roomChannelName(roomId: string): string {
  return `room-${roomId}`;
}

interface HistoryPage {
  items: ChatItem[];
  next: number;
  before?: number | null;
  more?: boolean;
}

/**
 * A catch-up that failed, or whose page lacks the message that prompted it, asks again this many times, after
 * 250, 500, 1000 and 2000 ms: the gateway's history trails its own fan-out by its read time, seconds at worst
 * in a storm, and a busy gateway answers again within seconds.
 */
const PREV_RETRIES = 4;
const PREV_RETRY_MS = 250;
const retryDelay = (attempt: number) => PREV_RETRY_MS * 2 ** attempt;

export function createRoomFeed(options: RoomFeedOptions): RoomFeed {
  let keep = options.keep ?? 500;
  const historySize = options.history ?? 50;
  const maxBackfill = options.maxBackfill ?? 200;
  const jitterMs = options.reconnectJitterMs ?? 1000;
  const lateMs = options.lateEventMs ?? 300;
  const random = options.random ?? Math.random;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const channelName = roomChannelName(options.roomId);
  const base = `${options.gatewayUrl}/v1/rooms/${encodeURIComponent(options.roomId)}/messages`;
  let list: ChatItem[] = [];
  const seen = new Set<number>();
  const gaps: FeedGap[] = [];
  /** Sequences at or below this are history we chose not to load: never a gap. Set by the first page. */
  let floor = options.after ?? -1;
  let floorSet = options.after !== undefined;
  let opened = false;
  let subscribedOnce = false;
  /**
   * Subscriptions so far, and the latest one after which a history read reached the room's newest message
   * (a page with nothing more, or the newest page). Until then, after a resubscribe, the newest live event
   * held need not be the room's newest: with several gateway replicas fanning out one room, a newer event
   * can reach the Pusher server before the socket resubscribed and an older one after.
   */
  let subscriptions = 0;
  let confirmed = 0;
  let closed = false;
  let backfilling: Promise<void> = Promise.resolve();
  /** Catch-ups waiting to start or to ask again, with how to cut the wait short on close. */
  const waiting = new Map<Promise<void>, () => void>();

  const highestSeen = (): number => (list.length > 0 ? list[list.length - 1]!.seq : floor);
  const skipped = (seq: number) => seq <= floor || gaps.some((g) => seq > g.after && seq < g.before);
  const firstHeldAfter = (seq: number) => list.find((m) => m.seq > seq)?.seq;

  /**
   * Ranges (after, upTo] in which every message of the room is held: a history page's (every message of the
   * room in what it covers), and a chat event's (`prev` names the room's message before it). Sequences are
   * the whole stream's, so `before === after + 1` alone cannot tell an empty hole: other rooms' messages sit
   * in between. A gap is recorded, and kept, only over what none of these covers.
   */
  let known: Array<[after: number, upTo: number]> = [];
  const uncovered = (after: number, before: number): FeedGap[] => {
    const pieces: FeedGap[] = [];
    let from = after;
    for (const [a, b] of known) {
      if (b <= from) continue;
      if (a >= before - 1) break;
      if (a > from) pieces.push({ after: from, before: a + 1 });
      from = b;
      if (from >= before - 1) break;
    }
    if (from < before - 1) pieces.push({ after: from, before });
    // A piece ends at the next message held when only covered sequences lie between (the marker sits there).
    return pieces.map((piece) => {
      const next = firstHeldAfter(piece.after);
      const covered = next !== undefined && next > piece.before && known.some(([a, b]) => a <= piece.before - 1 && b >= next - 1);
      return covered ? { after: piece.after, before: next } : piece;
    });
  };
  const cover = (after: number, upTo: number) => {
    if (upTo <= after) return;
    let lo = after;
    let hi = upTo;
    const rest: Array<[number, number]> = [];
    for (const [a, b] of known) {
      if (b < lo || a > hi) rest.push([a, b]);
      else [lo, hi] = [Math.min(lo, a), Math.max(hi, b)];
    }
    rest.push([lo, hi]);
    known = rest.filter(([, b]) => b > floor).sort((x, y) => x[0] - y[0]);
    // A gap that a later page or event filled goes, or shrinks to what is still missing.
    for (let i = gaps.length - 1; i >= 0; i--) {
      const g = gaps[i]!;
      if (g.before > after + 1 && g.after < upTo) gaps.splice(i, 1, ...uncovered(g.after, g.before));
    }
  };
  /** Records that the room's messages with after < seq < before are not shown, where nothing covers them. */
  const mark = (after: number, before: number) => {
    for (const piece of uncovered(after, before)) {
      if (!gaps.some((g) => g.after <= piece.after && g.before >= piece.before)) gaps.push(piece);
    }
  };
  /** Where live events take over after `after`: the event that named the hole, or the first held after it, now. */
  const reach = (after: number, until?: number) => {
    const held = firstHeldAfter(after);
    return until === undefined ? held : held === undefined ? until : Math.min(until, held);
  };

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

  /** Merges a history page that holds every message of the room with after < seq <= its last. */
  const mergePage = (page: HistoryPage, after: number) => {
    merge(page.items);
    cover(after, page.items.at(-1)?.seq ?? after);
  };

  const get = async (query: string): Promise<HistoryPage> => {
    const response = await doFetch(`${base}?${query}`);
    if (!response.ok) throw new Error(`history ${response.status}: ${await response.text()}`);
    return (await response.json()) as HistoryPage;
  };

  /** Runs history work one piece at a time; failures go to onError (retried on the next reconnect or gap). */
  const queue = (work: () => Promise<void>) => {
    backfilling = backfilling.then(() => (closed ? undefined : work())).catch((error: unknown) => options.onError?.(error));
    return backfilling;
  };

  /** The room's newest page: the feed opens with it, and jumps to it after a long absence. */
  const loadNewest = async () => {
    const asked = subscriptions;
    const page = await get(`limit=${historySize}`);
    confirmed = Math.max(confirmed, asked);
    if (!floorSet) {
      floor = (page.items[0]?.seq ?? page.next + 1) - 1;
      floorSet = true;
    }
    return page;
  };

  /** Runs `again` after `ms` (cut short by close, when it does not run; `idle()` waits for it). */
  const later = (ms: number, again: () => Promise<void> | undefined) => {
    let stop = () => undefined as void;
    const waited = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stop = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const run: Promise<void> = waited.then(() => (closed ? undefined : again())).finally(() => waiting.delete(run));
    waiting.set(run, stop);
  };

  /**
   * The newest page, merged: the hole from `from` (by default the newest message held below the page) up to
   * the first message held after it is recorded as a gap where nothing covers it.
   */
  const jumpToNewest = async (from?: number) => {
    const newest = await loadNewest();
    const first = newest.items[0]?.seq;
    if (first === undefined) return;
    const below = from ?? lastBelow(first);
    const stop = reach(below, first);
    mergePage(newest, first - 1);
    if (stop !== undefined) mark(below, stop);
  };

  /**
   * What was missed after `after`: one request for at most `maxBackfill` messages. When more follow, the
   * feed does not walk them: the live events it holds past `after` (as held when the page arrives: those
   * that came while it was read count) or, with none, the newest page end the hole, and what lies between
   * is recorded as a gap.
   *
   * A reconnect's catch-up (no `until`) also makes sure the feed reaches the room's newest message: unless a
   * read since the resubscribe already did (a page with nothing more), it takes the newest page, as the
   * second request when the first had more, or as the only one when live events had filled the hole. Live
   * events alone cannot say: one sent before the socket resubscribed is never delivered, and with several
   * replicas it may be newer than every event that was (a room that then goes quiet would never show it).
   *
   * A catch-up never leaves a hole silently. It asks again, after PREV_RETRY_MS doubling, when:
   * - the request fails (the gateway busy or restarting: live events go on arriving meanwhile, and no later
   *   one would name the hole again);
   * - the page lacks `prev`, the message an event said came before it (the reason for this catch-up), yet
   *   says nothing more follows: the page was read before the gateway had it (its history tail trails its
   *   fan-out, and an identical read already in flight is shared).
   * After the last try it marks the hole as a gap ("older messages not shown"), and a later page or event
   * that fills it removes it.
   */
  const catchUp = (after: number, until?: number, prev?: number, attempt = 0): Promise<void> =>
    queue(async () => {
      // Nothing to ask when the hole is already filled (an earlier page, or the events' own chain, covers it).
      const held = reach(after, until);
      if (held !== undefined && uncovered(after, held).length === 0) {
        if (until === undefined && confirmed < subscriptions) await jumpToNewest();
        return;
      }
      const asked = subscriptions;
      let page: HistoryPage;
      try {
        page = await get(`after=${after}&limit=${maxBackfill}`);
      } catch (error) {
        options.onError?.(error);
        if (attempt < PREV_RETRIES) later(retryDelay(attempt), () => catchUp(prev === undefined ? after : lastBelow(prev), until, prev, attempt + 1));
        else {
          const end = reach(after, until);
          if (end !== undefined) mark(after, end);
          if (!closed) options.onChange(list);
        }
        return;
      }
      const end = reach(after, until);
      mergePage(page, after);
      if (!page.more) {
        confirmed = Math.max(confirmed, asked);
        if (prev === undefined || seen.has(prev) || skipped(prev)) return;
        const from = lastBelow(prev);
        if (attempt < PREV_RETRIES) {
          later(retryDelay(attempt), () => catchUp(from, until, prev, attempt + 1));
          return;
        }
        mark(from, until ?? prev + 1);
        if (!closed) options.onChange(list);
        return;
      }
      const last = page.items.at(-1)?.seq ?? after;
      // A page that reached the live events left no hole (more = the live ones after it).
      if (end !== undefined) mark(last, end);
      if (end === undefined || until === undefined) await jumpToNewest(end === undefined ? last : undefined);
      if (!closed) options.onChange(list);
    });

  /** The newest message held below `seq` (the floor when none): where a catch-up for `seq` starts. */
  const lastBelow = (seq: number) => {
    let at = list.length - 1;
    while (at >= 0 && list[at]!.seq >= seq) at--;
    return at >= 0 ? list[at]!.seq : floor;
  };

  const onChat = (payload: ChatEventPayload) => {
    const items = chatItems(payload);
    const first = items[0]?.seq;
    if (first === undefined) return;
    const prev = payload.prev !== undefined && payload.prev < first ? payload.prev : undefined;
    const missing = (seq: number) => !skipped(seq) && !seen.has(seq);
    if (opened && prev !== undefined && missing(prev)) {
      // The sender says the room had a message we never got: dropped while we were away, or another
      // replica's event still on its way (see lateEventMs).
      later(lateMs, () => (missing(prev) ? catchUp(lastBelow(prev), first, prev) : undefined));
    }
    merge(items);
    // The sending gateway's word that the room had nothing else from `prev` to the event's last: taken only
    // from an event that says so and is well formed (rising sequences), never from an event that merely
    // names a `prev` (another replica's share of the room, or an earlier gateway's event).
    if (payload.whole && prev !== undefined && items.every((m, i) => i === 0 || m.seq > items[i - 1]!.seq)) cover(prev, items.at(-1)!.seq);
  };

  const onSubscribed = () => {
    if (!subscribedOnce) {
      subscribedOnce = true;
      queue(async () => {
        if (options.after !== undefined) {
          mergePage(await get(`after=${options.after}&limit=${maxBackfill}`), options.after);
        } else {
          const page = await loadNewest();
          // Events that came before the page and are older than it (a fan-out still working through a
          // backlog) would sit above a hole nothing marks: the feed starts at the page.
          if (list.some((m) => m.seq <= floor)) {
            for (const m of list) if (m.seq <= floor) seen.delete(m.seq);
            list = list.filter((m) => m.seq > floor);
          }
          mergePage(page, (page.items[0]?.seq ?? page.next + 1) - 1);
        }
        opened = true;
      });
      return;
    }
    // Pusher resubscribes by itself after a reconnect; what was sent in between is only in the history.
    // Every socket of a restarted node comes back at once: spread the backfills.
    subscriptions++;
    const from = highestSeen();
    later(random() * jitterMs, () => catchUp(from));
  };

  const channel = options.pusher.subscribe(channelName);
  channel.bind('chat', onChat);
  channel.bind('pusher:subscription_succeeded', onSubscribed);

  return {
    channel,
    messages: () => list,
    gaps: () => gaps,
    loadOlder() {
      let loaded = 0;
      return queue(async () => {
        const oldest = list[0]?.seq ?? floor + 1;
        if (oldest <= 1) return;
        const page = await get(`before=${oldest}&limit=${historySize}`);
        loaded = page.items.length;
        if (loaded === 0) {
          floor = 0;
          return;
        }
        floor = Math.min(floor, page.items[0]!.seq - 1);
        keep += loaded;
        merge(page.items);
        cover(page.items[0]!.seq - 1, oldest - 1);
      }).then(() => loaded);
    },
    async idle() {
      let current: Promise<void>;
      do {
        current = backfilling;
        await current;
        await Promise.all(waiting.keys());
      } while (current !== backfilling || waiting.size > 0);
    },
    close() {
      closed = true;
      for (const stop of waiting.values()) stop();
      channel.unbind('chat', onChat);
      channel.unbind('pusher:subscription_succeeded', onSubscribed);
      options.pusher.unsubscribe(channelName);
    },
  };
}

/** What `jitterReconnects` needs of a pusher-js client. */
export interface ReconnectingPusherLike {
  connection: { bind(event: 'state_change', callback: (states: { previous: string; current: string }) => void): unknown };
  connect(): void;
  disconnect(): void;
}

/**
 * pusher-js retries a lost connection at once, so every socket of a Soketi node that restarts comes back in
 * the same second. This spreads them: when a connected client loses its connection, it stops pusher-js's
 * own retry and reconnects after a random 0–`maxDelayMs` (pusher-js then resubscribes its channels, and the
 * room feed backfills, itself jittered). Returns a function that stops doing so.
 */
export function jitterReconnects(pusher: ReconnectingPusherLike, options: { maxDelayMs?: number; random?: () => number } = {}): () => void {
  const maxDelayMs = options.maxDelayMs ?? 3_000;
  const random = options.random ?? Math.random;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let active = true;
  pusher.connection.bind('state_change', ({ previous, current }) => {
    if (!active || previous !== 'connected' || (current !== 'connecting' && current !== 'unavailable')) return;
    clearTimeout(timer);
    // Not inside pusher-js's own state change: it would carry on with its retry regardless.
    setTimeout(() => {
      if (!active) return;
      pusher.disconnect();
      timer = setTimeout(() => {
        if (active) pusher.connect();
      }, random() * maxDelayMs);
    }, 0);
  });
  return () => {
    active = false;
    clearTimeout(timer);
  };
}
