import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatItems, chatRow, createRoomFeed, type ChatItem, type ChannelLike, type PusherLike, type RoomFeedOptions } from './index';

/**
 * The feed's ordering rules, with a real HTTP history server (serving `history` like the gateway's
 * endpoint) and a socket we drive by hand. The gateway spec runs the same helper against Soketi.
 */
const history: ChatItem[] = [];
const requests: string[] = [];
/** Run once each after a history request has been answered (a message reaching the gateway's history late). */
const afterAnswer: Array<() => void> = [];
/** Run once each before a history request is answered (live events arriving while it is read). */
const beforeAnswer: Array<() => void> = [];
/** Requests still to refuse with a 503 (a busy gateway). */
let refuse = 0;
let server: Server;
let gatewayUrl: string;

beforeAll(async () => {
  // The gateway's history endpoint, as it answers: the newest page, the page before or after a sequence.
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(url.search);
    if (refuse > 0) {
      refuse--;
      res.statusCode = 503;
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'busy' } }));
      return;
    }
    beforeAnswer.shift()?.();
    const limit = Number(url.searchParams.get('limit'));
    const after = url.searchParams.get('after');
    const before = url.searchParams.get('before');
    let items: ChatItem[];
    let more = false;
    if (after !== null) {
      const later = history.filter((m) => m.seq > Number(after));
      items = later.slice(0, limit);
      more = later.length > limit;
    } else {
      items = history.filter((m) => before === null || m.seq < Number(before)).slice(-limit);
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ items, next: items.at(-1)?.seq ?? (after !== null ? Number(after) : (history.at(-1)?.seq ?? 0)), before: items[0]?.seq ?? null, more }));
    afterAnswer.shift()?.();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function item(seq: number): ChatItem {
  return { seq, id: `m${seq}`, platform: 'onair', sender: { id: 'u', name: 'u' }, content: `#${seq}`, sentAt: new Date(seq).toISOString() };
}

/** A pusher-js stand-in with one channel whose events the test emits. */
function socket() {
  const handlers = new Map<string, Set<(data: any) => void>>();
  const channel: ChannelLike = {
    bind: (event, cb) => handlers.set(event, (handlers.get(event) ?? new Set()).add(cb)),
    unbind: (event, cb) => (cb ? handlers.get(event!)?.delete(cb) : handlers.delete(event!)),
  };
  const pusher: PusherLike = { subscribe: () => channel, unsubscribe: () => undefined };
  const emit = (event: string, data?: unknown) => handlers.get(event)?.forEach((cb) => cb(data));
  /** A gateway's event: `whole` unless told otherwise when it names `prev` (one replica, in order). */
  const chat = (seqs: number[], prev?: number, whole = prev !== undefined) =>
    emit('chat', { seq: [seqs[0], seqs.at(-1)], ...(prev !== undefined ? { prev } : {}), ...(whole ? { whole: true } : {}), platform: 'onair', messages: seqs.map((seq) => chatRow(item(seq))) });
  return { pusher, emit, chat };
}

describe('chat event rows', () => {
  it('carry every field of a message there and back', () => {
    const sent = [item(7), { ...item(8), sender: { id: 'u-2', name: 'Ünïcode "quoted"' }, content: 'tab\there, newline\nthere' }];
    const payload = { seq: [7, 8] as [number, number], platform: 'onair', messages: sent.map(chatRow) };
    expect(chatItems(JSON.parse(JSON.stringify(payload)))).toEqual(sent);
  });

  it('are read next to events of the earlier form (objects), as a rollout sends both', () => {
    expect(chatItems({ messages: [item(3), item(4)] })).toEqual([item(3), item(4)]);
  });
});

const settle = async (feed: { idle(): Promise<void> }, ms = 5) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  await feed.idle();
};

/** A feed on room `r` whose history holds `held`, opened (subscribed, its newest page in); `requests` holds that page. */
const open = async (held: number[], options: Partial<RoomFeedOptions> = {}) => {
  history.length = 0;
  history.push(...held.map(item));
  requests.length = 0;
  const s = socket();
  const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, onChange: () => undefined, ...options });
  s.emit('pusher:subscription_succeeded');
  await feed.idle();
  return { s, feed };
};

describe('createRoomFeed', () => {
  it('keeps sequence order and drops duplicates, whatever order events arrive in', async () => {
    history.length = 0;
    const s = socket();
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, onChange: () => undefined });
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    s.chat([10, 12]);
    s.chat([20], 12);
    s.chat([15], 12); // another gateway replica's event, arriving late
    s.chat([12, 20]); // a redelivery
    expect(feed.messages().map((m) => m.seq)).toEqual([10, 12, 15, 20]);
    feed.close();
  });

  it('opens at the newest page even when older events came before it, with no hole above them', async () => {
    history.length = 0;
    history.push(...Array.from({ length: 500 }, (_, i) => item(i + 1)));
    requests.length = 0;
    const s = socket();
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, history: 50, onChange: () => undefined });
    // A fan-out still working through a backlog: events far older than the newest page, and one inside it.
    s.chat([100, 101], 99);
    s.chat([470], 469);
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    expect(feed.messages().map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 451 + i));
    expect(feed.gaps()).toEqual([]);
    expect(requests).toEqual(['?limit=50']);
    feed.close();
  });

  it('opens with the newest page in one request, and scrolls back through `before`', async () => {
    const { feed } = await open(Array.from({ length: 5_000 }, (_, i) => i + 1), { history: 50 });
    expect(requests).toEqual(['?limit=50']);
    expect(feed.messages().map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 4_951 + i));
    expect(await feed.loadOlder()).toBe(50);
    expect(await feed.loadOlder()).toBe(50);
    expect(requests.slice(1)).toEqual(['?before=4951&limit=50', '?before=4901&limit=50']);
    expect(feed.messages()).toHaveLength(150);
    expect(feed.messages()[0]!.seq).toBe(4_851);
    feed.close();
  });

  it('backfills what it missed when an event names a previous message it never saw, and after a resubscribe', async () => {
    const changes: number[] = [];
    const { s, feed } = await open([5], { reconnectJitterMs: 0, onChange: (list) => changes.push(list.length) });
    history.push(...[7, 9, 11].map(item));
    s.chat([11], 9); // 7 and 9 went missing
    await feed.idle();
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11]);
    // The socket dropped and came back: 13, 15 and 17 were sent meanwhile.
    history.push(...[13, 15, 17].map(item));
    s.emit('pusher:subscription_succeeded');
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 13, 15, 17]);
    expect(requests).toEqual(['?limit=50', '?after=5&limit=200', '?after=11&limit=200']);
    expect(changes.at(-1)).toBe(7);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('takes a range as complete only from an event that says `whole`: a partial event does not hide a hole named later', async () => {
    const { s, feed } = await open([1, 2, 3]);
    history.push(...[4, 5, 6, 7].map(item));
    // A replica whose tail did not know all of 4..7 (5 went out elsewhere): prev, but not whole.
    s.chat([4, 7], 3, false);
    // 6 names 5, which this client never got: a catch-up from 4 must ask (had 3..7 been taken as complete,
    // it would have found nothing to ask and 5 would be lost without a gap).
    s.chat([6], 5);
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(requests).toEqual(['?limit=50', '?after=4&limit=200']);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('catches up on a message missed from one gateway replica while another fans out the rest of the room', async () => {
    const { s, feed } = await open([1, 2]);
    history.push(...[3, 4, 5, 6].map(item));
    // Replica A fans out 3 and 5, replica B 4 and 6; each event names the room's previous message (both
    // replicas' tails read the whole stream), so a break between 3 and 5 is two events. B's [4] never came.
    s.chat([3], 2);
    s.chat([5], 4); // names 4: the client asks
    s.chat([6], 5);
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(requests).toEqual(['?limit=50', '?after=3&limit=200']);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('waits for another replica\'s late event before asking for the message an event named', async () => {
    const { s, feed } = await open([1, 2]);
    history.push(...[3, 4, 5].map(item));
    // Replica A's window flushed first; B's [3], the message A's event names, comes 100 ms later.
    s.chat([4, 5], 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    s.chat([3], 2);
    await settle(feed);
    expect(requests).toEqual(['?limit=50']);
    expect(feed.messages().map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('asks again when the page lacks the message the event named (the history read trailed the fan-out), never leaving a silent hole', async () => {
    // Seen in bench:realtime's reconnect storm: after a reconnect the first event named 6208 as its previous
    // message; the catch-up page (a read shared with one begun earlier) ended at 6167 with more=false, and the
    // feed went on with 6168..6208 missing and no gap recorded.
    const { s, feed } = await open([5], { reconnectJitterMs: 0 });
    // 7 and 9 were sent while the socket was away; the history holds 7 only when first asked, 9 just after.
    history.push(item(7));
    afterAnswer.push(() => history.push(item(9)));
    s.chat([11], 9);
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11]);
    expect(requests).toEqual(['?limit=50', '?after=5&limit=200', '?after=7&limit=200']);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('records no gap when the backfill page reaches the live events, however many follow', async () => {
    const { s, feed } = await open([5], { maxBackfill: 3 });
    history.push(...[7, 9, 11, 13, 15].map(item)); // 11 on was received live
    s.chat([11], 9);
    s.chat([13], 11);
    s.chat([15], 13);
    await settle(feed);
    expect(requests).toEqual(['?limit=50', '?after=5&limit=3']); // [7, 9, 11], more
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 13, 15]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('asks again when a backfill request fails, and marks the hole as a gap when it keeps failing', async () => {
    const errors: unknown[] = [];
    const { s, feed } = await open([5], { reconnectJitterMs: 0, onError: (e) => errors.push(e) });
    // Back after a drop: 7 and 9 were sent meanwhile; the gateway refuses the first ask.
    history.push(item(7), item(9));
    refuse = 1;
    s.emit('pusher:subscription_succeeded');
    s.chat([11], 9);
    history.push(item(11));
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11]);
    expect(errors).toHaveLength(1);
    expect(feed.gaps()).toEqual([]);
    // Another drop, and the gateway refuses every try: 13 is not shown, and the feed says so.
    history.push(item(13));
    refuse = 5;
    s.emit('pusher:subscription_succeeded');
    s.chat([15]);
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 15]);
    expect(feed.gaps()).toEqual([{ after: 11, before: 15 }]);
    expect(errors).toHaveLength(6);
    feed.close();
  }, 10_000);

  it('after a reconnect, records no gap when its backfill reaches the live events received meanwhile, and confirms the newest', async () => {
    const { s, feed } = await open([5], { maxBackfill: 3, reconnectJitterMs: 0 });
    // Back after a drop (7 and 9 missed); 11 and 13 arrive live before the jittered backfill asks.
    history.push(...[7, 9, 11, 13].map(item));
    s.emit('pusher:subscription_succeeded');
    s.chat([11]);
    s.chat([13], 11);
    await settle(feed);
    // [7, 9, 11], more: it reached 11; then the newest page, as live events cannot say nothing newer was missed.
    expect(requests).toEqual(['?limit=50', '?after=5&limit=3', '?limit=50']);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 13]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('after a reconnect, takes live events that arrive while its backfill is read as the end of the hole: no gap', async () => {
    // Seen in bench:realtime's reconnect storm (1,000 feeds): resubscribed with nothing held past 1312, the
    // backfill page came back 5 s later (1313..2312, more) while events 1721..2352 had arrived meanwhile; the
    // feed took the newest page (2334..) and recorded a gap 2312<>2334 over messages it showed.
    const { s, feed } = await open([5], { history: 2, maxBackfill: 3, reconnectJitterMs: 0 });
    // Back after a drop: 7..17 were sent meanwhile (odd sequences: other rooms' messages lie between).
    history.push(...[7, 9, 11, 13, 15, 17].map(item));
    beforeAnswer.push(() => {
      s.chat([13, 15], 11);
      s.chat([17], 15);
    });
    s.emit('pusher:subscription_succeeded');
    await settle(feed);
    expect(requests).toEqual(['?limit=2', '?after=5&limit=3', '?limit=2']); // [7, 9, 11], more: it reached 13; the newest [15, 17]
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 13, 15, 17]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('after a reconnect, shows the newest message even when every live event it got is older (two replicas, racing)', async () => {
    // One replica sent the room's newest (13..17) just before the socket resubscribed, another its share
    // before that (7..11) just after. Nothing later names 17: the room went quiet.
    const { s, feed } = await open([5], { maxBackfill: 3, reconnectJitterMs: 0 });
    history.push(...[7, 9, 11, 13, 15, 17].map(item));
    s.emit('pusher:subscription_succeeded');
    s.chat([7, 9, 11], 5);
    await settle(feed);
    expect(requests).toEqual(['?limit=50', '?limit=50']);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 13, 15, 17]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('after a reconnect, asks nothing more when a catch-up since already reached the room\'s end', async () => {
    const { s, feed } = await open([5], { maxBackfill: 3, reconnectJitterMs: 50, random: () => 1 });
    // 7 was missed; 9 arrives live naming it, and its catch-up (before the jittered one) reads to the end.
    history.push(item(7), item(9));
    s.emit('pusher:subscription_succeeded');
    s.chat([9], 7);
    await settle(feed);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await settle(feed);
    expect(requests).toEqual(['?limit=50', '?after=5&limit=3']);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9]);
    feed.close();
  });

  it('records no gap where the page ends just before the live events and only other rooms\' sequences lie between', async () => {
    const { s, feed } = await open([5], { maxBackfill: 2, reconnectJitterMs: 0 });
    history.push(...[7, 9, 11].map(item));
    s.emit('pusher:subscription_succeeded');
    s.chat([11], 9); // 10 is another room's: the page [7, 9] (more) leaves nothing of this room out
    await settle(feed);
    // The reconnect's own catch-up finds the hole filled; as the page had more, it confirms the newest.
    expect(requests).toEqual(['?limit=50', '?after=5&limit=2', '?limit=50']);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  });

  it('removes a gap that a later page fills', async () => {
    history.length = 0;
    history.push(item(5));
    requests.length = 0;
    const s = socket();
    const gapsSeen: string[] = [];
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, reconnectJitterMs: 0, onChange: () => gapsSeen.push(JSON.stringify(feed.gaps())) });
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    // Back after a drop (7 and 9 missed): two catch-ups for the hole, the reconnect's and the event's. The
    // gateway refuses until the first has used its last try (a gap) and answers the second's last.
    history.push(item(7), item(9), item(11));
    refuse = 9;
    s.emit('pusher:subscription_succeeded');
    await new Promise((resolve) => setTimeout(resolve, 5));
    s.chat([11], 9);
    await settle(feed);
    expect(requests.slice(1)).toEqual(Array.from({ length: 10 }, () => '?after=5&limit=200'));
    expect(gapsSeen).toContain(JSON.stringify([{ after: 5, before: 11 }])); // marked while it was missing
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11]);
    expect(feed.gaps()).toEqual([]);
    feed.close();
  }, 10_000);

  it('marks the hole as a gap when the named message never comes', async () => {
    const { s, feed } = await open([5], { reconnectJitterMs: 0 });
    history.push(item(7));
    s.chat([11], 9); // 9 is never in the history (retention, say)
    await settle(feed);
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 11]);
    // One ask and four more, 250 + 500 + 1000 + 2000 ms apart.
    expect(requests).toEqual(['?limit=50', '?after=5&limit=200', ...Array.from({ length: 4 }, () => '?after=7&limit=200')]);
    expect(feed.gaps()).toEqual([{ after: 7, before: 11 }]);
    feed.close();
  }, 10_000);

  it('after missing 2,000 messages asks for at most one page, then jumps to the newest and marks the hole', async () => {
    history.length = 0;
    history.push(...Array.from({ length: 100 }, (_, i) => item(i + 1)));
    requests.length = 0;
    const s = socket();
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, history: 50, maxBackfill: 200, reconnectJitterMs: 0, onChange: () => undefined });
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    history.push(...Array.from({ length: 2_000 }, (_, i) => item(101 + i)));
    s.emit('pusher:subscription_succeeded');
    await settle(feed);
    expect(requests).toEqual(['?limit=50', '?after=100&limit=200', '?limit=50']);
    const seqs = feed.messages().map((m) => m.seq);
    expect(seqs.at(-1)).toBe(2_100);
    expect(seqs).toContain(300); // the one page it did fetch
    expect(seqs).not.toContain(301);
    expect(feed.gaps()).toEqual([{ after: 300, before: 2_051 }]);
    // A live event right after the hole is not taken for a new gap.
    s.chat([2_101], 2_100);
    await feed.idle();
    expect(requests).toHaveLength(3);
    feed.close();
  });

  it('spreads reconnect backfills over the jitter window', async () => {
    const { s, feed } = await open([1], { reconnectJitterMs: 400, random: () => 0.5 });
    const resubscribed = Date.now();
    s.emit('pusher:subscription_succeeded');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(requests).toEqual(['?limit=50']);
    // idle() waits for a backfill still to start, too.
    await feed.idle();
    expect(requests).toEqual(['?limit=50', '?after=1&limit=200']);
    expect(Date.now() - resubscribed).toBeGreaterThanOrEqual(195);
    feed.close();
  });

  it('resumes after a given sequence first when asked, and keeps only the newest `keep` messages', async () => {
    history.length = 0;
    history.push(...Array.from({ length: 450 }, (_, i) => item(i + 1)));
    const s = socket();
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, after: 0, maxBackfill: 450, keep: 100, onChange: () => undefined });
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    expect(feed.messages().map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 351 + i));
    s.chat([3]); // older than what is kept: not brought back
    expect(feed.messages()[0]!.seq).toBe(351);
    feed.close();
  });
});
