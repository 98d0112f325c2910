/**
 * One load-client process of the realtime load tool for the room-feed scenarios: real pusher-js clients
 * wrapped by `@onair/room-client`'s `createRoomFeed`, as the room page runs them. Driven by its parent over IPC.
 *
 *   join    the join storm: `rate` joins/s for `seconds`, each a fresh pusher-js client + room feed (history
 *           50); the time from the join to the first render (the onChange that merges the history page) is
 *           recorded, then the feed and its socket are closed.
 *   hold    the reconnect storm: `count` feeds held open through a small TCP front of this process that
 *           sends each new connection to the first upstream that accepts it (Soketi node 1, then node 2).
 *   arm     from here on, record every sequence each held feed shows (at or above `base`).
 *   status  how many held feeds are live (connected, resubscribed and backfilled since the kill).
 *   settle  wait until every held feed shows the last message published (a loaded client reads its socket
 *           seconds behind: what it has not read yet is late, not lost).
 *   verify  per held feed, sequences of `truth` it never showed and sequences it showed twice.
 */
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import PusherModule from 'pusher-js';
import { createRoomFeed, jitterReconnects, type ChatItem, type RoomFeed } from '@onair/room-client';
import { createHistogram, record } from './histogram';

// pusher-js's Node build is CommonJS: its default export arrives as the module or under `default`.
const Pusher = ((PusherModule as unknown as { default?: unknown }).default ?? PusherModule) as typeof PusherModule;
type PusherClient = InstanceType<typeof PusherModule>;

export type FeedWorkerCommand =
  | { type: 'join'; key: string; wsPort: number; gatewayUrl: string; roomId: string; rate: number; seconds: number }
  | {
      type: 'hold';
      key: string;
      upstreams: number[];
      gatewayUrl: string;
      roomId: string;
      count: number;
      /** The page's settings (jittered reconnects and backfills) or synchronized (0 and no reconnect jitter). */
      reconnectJitterMs: number;
      jitterReconnectsMs: number;
      maxBackfill: number;
      keep: number;
    }
  | { type: 'arm'; base: number; size: number }
  | { type: 'killed'; at: number }
  | { type: 'status' }
  | { type: 'settle'; last: number; timeoutMs: number }
  | { type: 'verify'; truth: number[] }
  | { type: 'close' };

export interface SettleReport {
  type: 'settled';
  /** Held feeds that showed the last message published (or hold it inside a gap) before the timeout. */
  settled: number;
  unsettled: number;
  /** ms until the last of them settled. */
  waitedMs: number;
  /** Those that had not: by pusher-js connection state, and how far behind the last message they were. */
  unsettledStates: Record<string, number>;
  unsettledBehind: number[];
}

export interface JoinReport {
  type: 'joined';
  histogram: number[];
  ok: number;
  failed: number;
  /** History requests the joins made (the page's `?limit=50`, and any other). */
  requests: number;
}

export interface StatusReport {
  type: 'status';
  held: number;
  live: number;
  /** ms from the kill to each live feed's backfill (per feed, only those live again). */
  liveAfterMs: number[];
  /** ms from the kill to each feed's resubscription (those resubscribed). */
  subscribedAfterMs: number[];
  requestsSinceKill: number;
  gaps: number;
  errors: number;
  /** Held feeds by pusher-js connection state. */
  states: Record<string, number>;
  /** onChange calls since the start. */
  changes: number;
  lastError?: string;
}

export interface VerifyReport {
  type: 'verified';
  feeds: number;
  feedsWithLoss: number;
  /** Missing, and not inside a gap the feed recorded ("older messages not shown"): lost silently. */
  lost: number;
  /** Missing inside a recorded gap: skipped by design after a long absence (more than maxBackfill). */
  skipped: number;
  /** Brought by a backfill page and dropped at once by the feed's `keep` window (older than all it held). */
  keepDropped: number;
  /**
   * Never shown, older than every message the feed holds at the check: below its `keep` window, which holds the
   * newest `keep` on purpose (scrolling back, `loadOlder`, fetches them). Not lost, and not counted as such.
   */
  belowKeep: number;
  doubled: number;
  gaps: number;
  /** Of `gaps`, those recorded after the check began. */
  gapsSinceArm: number;
  /** A few feeds with a loss: the missing sequences (runs), their gaps and their trace since the arm. */
  examples: Array<{ missing: string[]; gaps: string[]; held: number; first: number | undefined; trace: string[] }>;
  /** Feeds whose reconnect missed more than `maxBackfill` messages (last shown before the drop → first event after it). */
  beyondBound: number;
  /** Over those feeds, the messages missed beyond `maxBackfill`: what a bounded backfill has to skip. */
  beyondBy: number;
  /** The largest hole a reconnect left, in messages. */
  largestHole: number;
  /** Of `gaps`, those over which every checked message was shown (a marker where nothing is missing). */
  emptyGaps: number;
  /** A few feeds with a gap since the arm: each gap with its checked messages (shown/inside), and the trace. */
  gapExamples: Array<{ gaps: string[]; trace: string[] }>;
}

const send = (message: unknown) => process.send!(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const options = (key: string, port: number): [string, ConstructorParameters<typeof PusherModule>[1]] => [
  key,
  { wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'], cluster: 'mt1', disableStats: true },
];

// ------------------------------------------------------------------------------------------ join storm
async function joinStorm(c: Extract<FeedWorkerCommand, { type: 'join' }>) {
  const histogram = createHistogram();
  let ok = 0;
  let failed = 0;
  let requests = 0;
  const pending = new Set<Promise<void>>();
  const join = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const pusher = new Pusher(...options(c.key, c.wsPort));
      let feed: RoomFeed | undefined;
      let pageIn = false;
      let done = false;
      const finish = (rendered: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (rendered) {
          ok++;
          record(histogram, performance.now() - started);
        } else failed++;
        feed?.close();
        pusher.disconnect();
        resolve();
      };
      const timer = setTimeout(() => finish(false), 10_000);
      feed = createRoomFeed({
        pusher,
        roomId: c.roomId,
        gatewayUrl: c.gatewayUrl,
        history: 50,
        // The history page is merged in the same microtask chain as its body is read: the first onChange
        // after the body is the first render with the page.
        fetch: async (input, init) => {
          requests++;
          const response = await fetch(input, init);
          const json = response.json.bind(response);
          response.json = async () => {
            const body: unknown = await json();
            pageIn = true;
            return body;
          };
          return response;
        },
        onChange: () => {
          if (pageIn) finish(true);
        },
        onError: () => finish(false),
      });
    });
  const started = performance.now();
  let made = 0;
  while (performance.now() - started < c.seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * c.rate);
    for (; made < due; made++) {
      const p = join();
      pending.add(p);
      void p.then(() => pending.delete(p));
    }
    await sleep(2);
  }
  await Promise.all(pending);
  const report: JoinReport = { type: 'joined', histogram: Array.from(histogram), ok, failed, requests };
  send(report);
}

// ------------------------------------------------------------------------------------------ reconnect storm
interface Held {
  pusher: PusherClient;
  feed: RoomFeed;
  firstPage: boolean;
  /** A backfill page arrived: the next onChange merges it, so that one walks the whole list. */
  walkAll: boolean;
  /**
   * Sequences from `base`, one byte each: 1 = shown; 3 = brought by a history page but dropped by the feed's
   * `keep` window before it was ever shown (older than every message held then): not a loss, the feed
   * keeps the newest `keep` on purpose.
   */
  seen: Uint8Array | undefined;
  /** Gaps the feed had recorded when the check began (while the storm of connections opened the feeds). */
  gapsAtArm: number;
  /** Sequences of history pages read since the last walk of the whole list. */
  pages: number[][];
  lost: boolean;
  resubscribed: boolean;
  /** When `pusher:subscription_succeeded` came back after the kill. */
  resubscribedAt: number | undefined;
  liveAt: number | undefined;
  /** A history page since the kill was merged and the feed's work done (possibly before the resubscription). */
  caughtUp: boolean;
  errors: number;
  /** The newest message held when the socket dropped after the kill, and the first event's after it came back. */
  heldAtDrop: number | undefined;
  firstAfterDrop: number | undefined;
  /** Gaps already written to the trace. */
  gapsTraced: number;
  /** From the arm on: what the feed asked and got, and the chat events it received (explains a loss). */
  trace: string[];
}
const held: Held[] = [];
let maxBackfill = Infinity;
let requestsSinceKill = 0;
let killedAt: number | undefined;
let base = 0;
let doubled = 0;
let changes = 0;
/** The last history failure a held feed reported (the status shows it). */
let lastError: string | undefined;
/** ms since the kill (negative before it), for traces. */
const stamp = () => (killedAt === undefined ? '-' : `${Date.now() - killedAt >= 0 ? '+' : ''}${Date.now() - killedAt}`);

function track(h: Held, list: readonly ChatItem[]) {
  if (!h.seen) return;
  const mark = (item: ChatItem) => {
    const i = item.seq - base;
    if (i < 0 || i >= h.seen!.length) return false;
    if (h.seen![i]) return false;
    h.seen![i] = 1;
    return true;
  };
  // Order and uniqueness: the list must rise strictly (a repeat would show twice).
  if (h.walkAll) {
    h.walkAll = false;
    for (let k = 0; k < list.length; k++) {
      if (k > 0 && list[k]!.seq <= list[k - 1]!.seq) doubled++;
      mark(list[k]!);
    }
    // A page's messages the list does not hold, older than all it holds: merged and dropped at once by `keep`.
    const oldest = list[0]?.seq ?? Infinity;
    for (const page of h.pages.splice(0)) {
      for (const seq of page) {
        const i = seq - base;
        if (i >= 0 && i < h.seen.length && !h.seen[i] && seq < oldest) h.seen[i] = 3;
      }
    }
    return;
  }
  // Live events append: walk back from the end until a run of already-seen ones.
  let run = 0;
  for (let k = list.length - 1; k >= 0 && run < 20; k--) {
    if (k > 0 && list[k]!.seq <= list[k - 1]!.seq) doubled++;
    if (mark(list[k]!)) run = 0;
    else run++;
  }
}

/** Marks as shown those of `seqs` the feed holds now (its list is in sequence order). */
function markHeld(h: Held, seqs: number[]) {
  const list = h.feed.messages();
  for (const seq of seqs) {
    const i = seq - base;
    if (i < 0 || i >= h.seen!.length || h.seen![i]) continue;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = list[mid]!.seq;
      if (at === seq) {
        h.seen![i] = 1;
        break;
      }
      if (at < seq) lo = mid + 1;
      else hi = mid - 1;
    }
  }
}

function front(upstreams: number[]): Promise<number> {
  const server = createServer((client: Socket) => {
    client.pause();
    let i = 0;
    const attempt = () => {
      const upstream = tcpConnect(upstreams[i]!, '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (!connected && ++i < upstreams.length) return attempt();
        client.destroy();
      });
      upstream.on('close', () => {
        if (connected) client.destroy();
      });
      client.once('close', () => upstream.destroy());
      client.once('error', () => upstream.destroy());
    };
    attempt();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function hold(c: Extract<FeedWorkerCommand, { type: 'hold' }>) {
  maxBackfill = c.maxBackfill;
  const port = await front(c.upstreams);
  const opened: Promise<boolean>[] = [];
  for (let n = 0; n < c.count; n++) {
    const pusher = new Pusher(...options(c.key, port));
    if (c.jitterReconnectsMs > 0) jitterReconnects(pusher, { maxDelayMs: c.jitterReconnectsMs });
    let markOpen: (ok: boolean) => void = () => undefined;
    opened.push(new Promise<boolean>((resolve) => {
      markOpen = resolve;
      setTimeout(() => resolve(false), 60_000);
    }));
    const h: Held = { pusher, feed: undefined as unknown as RoomFeed, firstPage: false, walkAll: false, seen: undefined, lost: false, resubscribed: false, resubscribedAt: undefined, liveAt: undefined, caughtUp: false, errors: 0, heldAtDrop: undefined, firstAfterDrop: undefined, gapsTraced: 0, trace: [], pages: [], gapsAtArm: 0 };
    h.feed = createRoomFeed({
      pusher,
      roomId: c.roomId,
      gatewayUrl: c.gatewayUrl,
      history: 50,
      keep: c.keep,
      maxBackfill: c.maxBackfill,
      reconnectJitterMs: c.reconnectJitterMs,
      fetch: async (input, init) => {
        if (killedAt !== undefined) requestsSinceKill++;
        if (process.env['BENCH_RT_DEBUG'] && killedAt !== undefined && held.indexOf(h) === 0) console.error(`feed 0 fetch ${String(input)} resub=${h.resubscribed} at +${Date.now() - killedAt}`);
        const response = await fetch(input, init);
        const json = response.json.bind(response);
        response.json = async () => {
          const body = (await json()) as { more?: boolean; items?: Array<{ seq: number }> };
          if (h.seen && body.items) h.pages.push(body.items.map((m) => m.seq));
          if (h.seen) h.trace.push(`${stamp()} page ${String(input).slice(String(input).indexOf('?') + 1)} → ${body.items?.[0]?.seq ?? '-'}..${body.items?.at(-1)?.seq ?? '-'} (${body.items?.length ?? 0}) more=${body.more}`);
          if (process.env['BENCH_RT_DEBUG'] && killedAt !== undefined && held.indexOf(h) === 0) console.error(`feed 0 page more=${body.more} resub=${h.resubscribed}`);
          if (!h.firstPage) {
            h.firstPage = true;
            markOpen(true);
          }
          h.walkAll = true;
          // Live again once what it missed has arrived: resubscribed, a history page since the kill, and the
          // feed's catch-up work done (the newest page after one with more, asks again). The page may come
          // before the resubscription is confirmed (pusher-js delivers the first events, and so their catch-up,
          // first); the reconnect's own catch-up then finds the hole filled and asks nothing.
          if (killedAt !== undefined && h.liveAt === undefined) {
            void h.feed.idle().then(() => {
              h.caughtUp = true;
              if (h.resubscribed) h.liveAt ??= Date.now();
            });
          }
          return body;
        };
        return response;
      },
      onChange: (list) => {
        changes++;
        track(h, list);
        const gaps = h.feed.gaps();
        for (; h.gapsTraced < gaps.length; h.gapsTraced++) if (h.seen) h.trace.push(`${stamp()} gap ${gaps[h.gapsTraced]!.after}<>${gaps[h.gapsTraced]!.before} (held ${list[0]?.seq ?? '-'}..${list.at(-1)?.seq ?? '-'})`);
      },
      onError: (error) => {
        h.errors++;
        if (h.seen) h.trace.push(`${stamp()} error ${String((error as Error)?.message ?? error).slice(0, 80)}`);
        lastError = String((error as Error)?.message ?? error).slice(0, 200);
      },
    });
    h.feed.channel.bind('chat', (payload: { seq: [number, number]; prev?: number; messages: Array<[number, ...unknown[]]> }) => {
      if (h.heldAtDrop !== undefined) h.firstAfterDrop ??= payload.seq[0];
      // Bound after the feed's own handler: the event is merged. A late event (the client behind its socket)
      // slots in below messages held already, where track()'s walk back from the end does not reach.
      if (h.seen) markHeld(h, payload.messages.map((m) => m[0]));
      if (h.seen) h.trace.push(`${stamp()} chat ${payload.seq[0]}..${payload.seq[1]} prev ${payload.prev ?? '-'}`);
    });
    pusher.connection.bind('state_change', ({ current }: { current: string }) => {
      if (killedAt !== undefined && current !== 'connected') h.heldAtDrop ??= h.feed.messages().at(-1)?.seq ?? 0;
      if (h.seen) h.trace.push(`${stamp()} ${current}`);
    });
    h.feed.channel.bind('pusher:subscription_succeeded', () => {
      if (h.seen) h.trace.push(`${stamp()} subscribed`);
      if (process.env['BENCH_RT_DEBUG'] && killedAt !== undefined && held.indexOf(h) === 0) console.error(`feed 0 resubscribed at +${Date.now() - killedAt}`);
      if (killedAt !== undefined) {
        h.resubscribed = true;
        h.resubscribedAt ??= Date.now();
        if (h.caughtUp) void h.feed.idle().then(() => (h.liveAt ??= Date.now()));
      }
    });
    held.push(h);
    // Connections a few hundred at a time: the connect storm is not what is measured.
    if (n % 100 === 99) await sleep(50);
  }
  const results = await Promise.all(opened);
  send({ type: 'held', ok: results.filter(Boolean).length, failed: results.filter((r) => !r).length });
}

process.on('message', (command: FeedWorkerCommand) => {
  if (command.type === 'join') void joinStorm(command);
  else if (command.type === 'hold') void hold(command);
  else if (command.type === 'arm') {
    base = command.base;
    for (const h of held) {
      h.seen = new Uint8Array(command.size);
      h.gapsAtArm = h.feed.gaps().length;
    }
    send({ type: 'armed' });
  } else if (command.type === 'killed') {
    killedAt = command.at;
    send({ type: 'noted' });
  } else if (command.type === 'status') {
    const live = held.filter((h) => h.liveAt !== undefined && h.pusher.connection.state === 'connected');
    const report: StatusReport = {
      type: 'status',
      held: held.length,
      live: live.length,
      liveAfterMs: live.map((h) => h.liveAt! - killedAt!),
      subscribedAfterMs: held.filter((h) => h.resubscribedAt !== undefined).map((h) => h.resubscribedAt! - killedAt!),
      requestsSinceKill,
      gaps: held.reduce((a, h) => a + h.feed.gaps().length, 0),
      errors: held.reduce((a, h) => a + h.errors, 0),
      states: held.reduce<Record<string, number>>((a, h) => ({ ...a, [h.pusher.connection.state]: (a[h.pusher.connection.state] ?? 0) + 1 }), {}),
      changes,
      ...(lastError ? { lastError } : {}),
    };
    send(report);
  } else if (command.type === 'settle') {
    const started = Date.now();
    const done = (h: Held) => (h.feed.messages().at(-1)?.seq ?? 0) >= command.last || h.feed.gaps().some((g) => command.last > g.after && command.last < g.before);
    const check = async () => {
      while (Date.now() - started < command.timeoutMs && !held.every(done)) await sleep(100);
      await Promise.all(held.map((h) => h.feed.idle()));
      const settled = held.filter(done).length;
      const late = held.filter((h) => !done(h));
      const report: SettleReport = {
        type: 'settled',
        settled,
        unsettled: late.length,
        waitedMs: Date.now() - started,
        unsettledStates: late.reduce<Record<string, number>>((a, h) => ({ ...a, [h.pusher.connection.state]: (a[h.pusher.connection.state] ?? 0) + 1 }), {}),
        unsettledBehind: late.slice(0, 5).map((h) => command.last - (h.feed.messages().at(-1)?.seq ?? 0)),
      };
      if (process.env['BENCH_RT_DEBUG']) for (const h of late.slice(0, 2)) console.error(`unsettled feed: ${h.trace.slice(-40).join(' | ')}`);
      send(report);
    };
    void check();
  } else if (command.type === 'verify') {
    let lost = 0;
    let skipped = 0;
    let feedsWithLoss = 0;
    let keepDropped = 0;
    let belowKeep = 0;
    const truthIndex = new Map(command.truth.map((seq, i) => [seq, i]));
    const examples: VerifyReport['examples'] = [];
    const gapExamples: VerifyReport['gapExamples'] = [];
    let emptyGaps = 0;
    let beyondBound = 0;
    let beyondBy = 0;
    let largestHole = 0;
    for (const h of held) {
      h.walkAll = true;
      track(h, h.feed.messages());
      const gaps = h.feed.gaps();
      let missing = 0;
      for (const seq of command.truth) {
        const shown = h.seen![seq - base];
        if (shown === 3) keepDropped++;
        if (shown) continue;
        if (gaps.some((g) => seq > g.after && seq < g.before)) skipped++;
        else if (seq < (h.feed.messages()[0]?.seq ?? -Infinity)) belowKeep++;
        else missing++;
      }
      if (h.heldAtDrop !== undefined && h.firstAfterDrop !== undefined) {
        const hole = command.truth.filter((seq) => seq > h.heldAtDrop! && seq < h.firstAfterDrop!).length;
        largestHole = Math.max(largestHole, hole);
        if (hole > maxBackfill) {
          beyondBound++;
          beyondBy += hole - maxBackfill;
        }
      }
      // Each gap: the checked messages inside it, and how many of them the feed showed all the same.
      const described = gaps.map((g) => {
        const inside = command.truth.filter((seq) => seq > g.after && seq < g.before);
        const shown = inside.filter((seq) => h.seen![seq - base]).length;
        if (shown === inside.length) emptyGaps++;
        return `${g.after}<>${g.before}: ${shown}/${inside.length} shown`;
      });
      if (gaps.length > h.gapsAtArm && gapExamples.length < 4) gapExamples.push({ gaps: described, trace: h.trace.slice(0, 400) });
      lost += missing;
      if (missing) {
        feedsWithLoss++;
        if (examples.length < 3) {
          const ranges: string[] = [];
          const oldest = h.feed.messages()[0]?.seq ?? -Infinity;
          const missed = command.truth.filter((seq) => !h.seen![seq - base] && seq >= oldest && !gaps.some((g) => seq > g.after && seq < g.before));
          for (let k = 0; k < missed.length; k++) {
            const start = missed[k]!;
            while (k + 1 < missed.length && truthIndex.get(missed[k + 1]!) === truthIndex.get(missed[k]!)! + 1) k++;
            ranges.push(start === missed[k] ? `${start}` : `${start}..${missed[k]}`);
          }
          examples.push({ missing: ranges.slice(0, 20), gaps: gaps.map((g) => `${g.after}<>${g.before}`), held: h.feed.messages().length, first: h.feed.messages()[0]?.seq, trace: h.trace.slice(0, 400) });
        }
      }
    }
    const report: VerifyReport = { type: 'verified', feeds: held.length, feedsWithLoss, lost, skipped, keepDropped, belowKeep, doubled, gaps: held.reduce((a, h) => a + h.feed.gaps().length, 0), gapsSinceArm: held.reduce((a, h) => a + h.feed.gaps().length - h.gapsAtArm, 0), examples, emptyGaps, gapExamples, beyondBound, beyondBy, largestHole };
    send(report);
  } else if (command.type === 'close') {
    for (const h of held) {
      h.feed.close();
      h.pusher.disconnect();
    }
    process.exit(0);
  }
});
