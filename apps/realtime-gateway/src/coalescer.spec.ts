import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCoalescer } from './coalescer';

describe('coalescer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends a quiet room item at once, with no added wait', async () => {
    const sent: Array<[string, number[]]> = [];
    const c = createCoalescer<number>({ windowMs: 100, send: async (room, items) => void sent.push([room, items]), now: () => Date.now() });
    const done = c.add('quiet', 1);
    expect(sent).toEqual([['quiet', [1]]]);
    await done;
  });

  it('sends a room chatting 500 messages/s at most once per 100 ms window, in order, losing none', async () => {
    const sent: Array<{ at: number; items: number[] }> = [];
    const c = createCoalescer<number>({ windowMs: 100, send: async (_room, items) => void sent.push({ at: Date.now(), items }), now: () => Date.now() });
    const start = Date.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      all.push(c.add('hot', i));
      await vi.advanceTimersByTimeAsync(2);
    }
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(all);
    expect(sent.flatMap((s) => s.items)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // 1 s of traffic: at most one flush per 100 ms window (+1 for the immediate first one).
    expect(sent.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(100);
    expect(Date.now() - start).toBeGreaterThanOrEqual(1000);
  });

  it('keeps rooms independent', async () => {
    const sent: string[] = [];
    const c = createCoalescer<number>({ windowMs: 100, send: async (room) => void sent.push(room), now: () => Date.now() });
    void c.add('a', 1);
    void c.add('b', 1);
    expect(sent).toEqual(['a', 'b']);
  });

  it('rejects the waiters of a flush that failed', async () => {
    const c = createCoalescer<number>({ windowMs: 100, send: async () => Promise.reject(new Error('soketi down')), now: () => Date.now() });
    await expect(c.add('r', 1)).rejects.toThrow('soketi down');
  });

  it('keeps one send in flight per room: what comes meanwhile goes next, after it, never beside it', async () => {
    const started: number[][] = [];
    const finish: Array<() => void> = [];
    const c = createCoalescer<number>({
      windowMs: 100,
      send: (_room, items) => {
        started.push(items);
        return new Promise<void>((resolve) => finish.push(resolve));
      },
      now: () => Date.now(),
    });
    const first = c.add('hot', 1);
    void c.add('hot', 2);
    void c.add('hot', 3);
    // The window has passed, but the first send has not answered: the second waits for it.
    await vi.advanceTimersByTimeAsync(500);
    expect(started).toEqual([[1]]);
    finish[0]!();
    await first;
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([[1], [2, 3]]);
    // Another room is not held up by this one.
    void c.add('quiet', 9);
    expect(started).toEqual([[1], [2, 3], [9]]);
    finish[1]!();
    finish[2]!();
  });

  it('flushAll sends what waits behind a send in flight', async () => {
    const sent: number[][] = [];
    let release!: () => void;
    const c = createCoalescer<number>({
      windowMs: 100,
      send: async (_room, items) => {
        sent.push(items);
        if (sent.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      now: () => Date.now(),
    });
    void c.add('r', 1);
    const second = c.add('r', 2);
    const all = c.flushAll();
    release();
    await all;
    await second;
    expect(sent).toEqual([[1], [2]]);
  });
});
