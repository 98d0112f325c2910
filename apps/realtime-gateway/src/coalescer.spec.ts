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
});
