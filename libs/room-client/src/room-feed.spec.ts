import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatItems, chatRow, createRoomFeed, type ChatItem, type ChannelLike, type PusherLike } from './index';

/**
 * The feed's ordering rules, with a real HTTP history server (serving `history` like the gateway's
 * endpoint) and a socket we drive by hand. The gateway spec runs the same helper against Soketi.
 */
const history: ChatItem[] = [];
const requests: string[] = [];
let server: Server;
let gatewayUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(url.search);
    const after = Number(url.searchParams.get('after'));
    const limit = Number(url.searchParams.get('limit'));
    const items = history.filter((m) => m.seq > after).slice(0, limit);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ items, next: items.at(-1)?.seq ?? after }));
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
  const chat = (seqs: number[], prev?: number) =>
    emit('chat', { seq: [seqs[0], seqs.at(-1)], ...(prev !== undefined ? { prev } : {}), platform: 'onair', messages: seqs.map((seq) => chatRow(item(seq))) });
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

describe('createRoomFeed', () => {
  it('keeps sequence order and drops duplicates, whatever order events arrive in', () => {
    const s = socket();
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, onChange: () => undefined });
    s.emit('pusher:subscription_succeeded');
    s.chat([10, 12]);
    s.chat([20], 12);
    s.chat([15], 12); // another gateway replica's event, arriving late
    s.chat([12, 20]); // a redelivery
    expect(feed.messages().map((m) => m.seq)).toEqual([10, 12, 15, 20]);
    feed.close();
  });

  it('backfills what it missed when an event names a previous message it never saw, and after a resubscribe', async () => {
    history.length = 0;
    history.push(...[5, 7, 9, 11].map(item));
    const s = socket();
    const changes: number[] = [];
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, onChange: (list) => changes.push(list.length) });
    s.emit('pusher:subscription_succeeded');
    s.chat([5]);
    s.chat([11], 9); // 7 and 9 went missing
    await feed.idle();
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11]);
    // The socket dropped and came back: 13, 15 and 17 were sent meanwhile.
    history.push(...[13, 15, 17].map(item));
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    expect(feed.messages().map((m) => m.seq)).toEqual([5, 7, 9, 11, 13, 15, 17]);
    expect(requests.slice(-2)).toEqual(['?after=11&limit=200', '?after=17&limit=200']);
    expect(changes.at(-1)).toBe(7);
    feed.close();
  });

  it('loads history after a given sequence first, and keeps only the newest `keep` messages', async () => {
    history.length = 0;
    history.push(...Array.from({ length: 450 }, (_, i) => item(i + 1)));
    const s = socket();
    const feed = createRoomFeed({ pusher: s.pusher, roomId: 'r', gatewayUrl, after: 0, keep: 100, onChange: () => undefined });
    s.emit('pusher:subscription_succeeded');
    await feed.idle();
    expect(feed.messages().map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 351 + i));
    s.chat([3]); // older than what is kept: not brought back
    expect(feed.messages()[0]!.seq).toBe(351);
    feed.close();
  });
});
