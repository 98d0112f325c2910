import { describe, expect, it } from 'vitest';
import type { ChatEventPayload, ChatItem } from '@onair/room-client';
import { chatEvents, tailPredecessors } from './chat-fanout';

/**
 * How a window becomes `chat` events: in sequence order, each naming the room's previous message as the
 * replica's tail knows it, `whole` only where it holds every message of the room after that.
 */
function item(seq: number, content = `#${seq}`): ChatItem {
  return { seq, id: `m${seq}`, platform: 'onair', sender: { id: 'u', name: 'u' }, content, sentAt: new Date(seq).toISOString() };
}
const payloads = (events: Array<{ data: string }>) =>
  events.map((e) => {
    const p = JSON.parse(e.data) as ChatEventPayload;
    return { seq: p.seq, prev: p.prev, whole: p.whole ?? false, n: p.messages.length };
  });
/** The room's messages, as the tail holds them (other rooms' sequences lie between). */
const room = [3, 7, 8, 12, 15, 16, 20].map((seq) => item(seq));

describe('chatEvents', () => {
  it('names the room\'s previous message and says whole for a window that holds all after it', () => {
    expect(payloads(chatEvents('room-r', [item(12), item(15), item(16)], tailPredecessors(room)))).toEqual([{ seq: [12, 16], prev: 8, whole: true, n: 3 }]);
  });

  it('sorts a window and starts a new event at a break: a redelivery from long ago, or another replica\'s share', () => {
    // 7 comes back (redelivered) with 15 and 20; 16 went to the other replica; 15 arrives twice.
    const events = chatEvents('room-r', [item(15), item(20), item(7), item(15)], tailPredecessors(room));
    expect(payloads(events)).toEqual([
      { seq: [7, 7], prev: 3, whole: true, n: 1 },
      { seq: [15, 15], prev: 12, whole: true, n: 1 },
      { seq: [20, 20], prev: 16, whole: true, n: 1 },
    ]);
  });

  it('says no prev where the tail cannot tell, and not whole over what it cannot vouch for', () => {
    // 3 is the first the tail holds (older ones may exist); 30 and 31 are not in the tail (it lagged).
    expect(payloads(chatEvents('room-r', [item(3), item(7)], tailPredecessors(room)))).toEqual([{ seq: [3, 7], prev: undefined, whole: false, n: 2 }]);
    expect(payloads(chatEvents('room-r', [item(20), item(30), item(31)], tailPredecessors(room)))).toEqual([{ seq: [20, 31], prev: 16, whole: false, n: 3 }]);
    expect(payloads(chatEvents('room-r', [item(30)]))).toEqual([{ seq: [30, 30], prev: undefined, whole: false, n: 1 }]);
  });

  it('splits under Pusher\'s 10 KB limit, each part chained to the one before', () => {
    const big = Array.from({ length: 40 }, (_, i) => item(100 + i, 'x'.repeat(500)));
    const events = chatEvents('room-r', big, tailPredecessors([item(90), ...big]));
    expect(events.length).toBeGreaterThan(1);
    for (const e of events) expect(Buffer.byteLength(e.data)).toBeLessThan(10_000);
    const parts = payloads(events);
    expect(parts[0]).toMatchObject({ prev: 90, whole: true });
    for (let i = 1; i < parts.length; i++) expect(parts[i]).toMatchObject({ prev: parts[i - 1]!.seq[1], whole: true });
    expect(parts.reduce((n, p) => n + p.n, 0)).toBe(40);
  });
});
