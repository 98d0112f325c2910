/**
 * Per-room coalescing of fan-out events. A quiet room's item is sent at once, with no added wait. A
 * busy room — one that flushed less than `windowMs` ago — has its items gathered until `windowMs` after
 * that flush and sent together, so a room costs at most one flush per window however fast it chats
 * (500 messages/s with a 100 ms window: at most 10 flushes/s).
 */
export interface Coalescer<T> {
  /** Adds an item; resolves once the flush holding it has been sent (rejects if sending failed). */
  add(room: string, item: T): Promise<void>;
  /** Sends everything pending now (shutdown). */
  flushAll(): Promise<void>;
}

export function createCoalescer<T>(options: {
  windowMs: number;
  /** Sends one room's items, in arrival order. */
  send(room: string, items: T[]): Promise<void>;
  now?: () => number;
}): Coalescer<T> {
  const now = options.now ?? Date.now;
  interface Pending {
    items: T[];
    waiters: Array<{ resolve(): void; reject(error: unknown): void }>;
    timer: NodeJS.Timeout | undefined;
  }
  const lastFlush = new Map<string, number>();
  const pending = new Map<string, Pending>();

  const flush = async (room: string) => {
    const batch = pending.get(room);
    if (!batch) return;
    pending.delete(room);
    clearTimeout(batch.timer);
    lastFlush.set(room, now());
    try {
      await options.send(room, batch.items);
      for (const w of batch.waiters) w.resolve();
    } catch (error) {
      for (const w of batch.waiters) w.reject(error);
    }
  };

  // Rooms idle for long are forgotten, so the map does not grow with every room ever seen.
  const sweep = setInterval(() => {
    const cutoff = now() - Math.max(60_000, options.windowMs * 10);
    for (const [room, at] of lastFlush) if (at < cutoff && !pending.has(room)) lastFlush.delete(room);
  }, 60_000);
  sweep.unref();

  return {
    add(room, item) {
      return new Promise<void>((resolve, reject) => {
        let batch = pending.get(room);
        if (!batch) {
          batch = { items: [], waiters: [], timer: undefined };
          pending.set(room, batch);
        }
        batch.items.push(item);
        batch.waiters.push({ resolve, reject });
        if (batch.timer) return;
        const since = now() - (lastFlush.get(room) ?? -Infinity);
        if (since >= options.windowMs) {
          void flush(room);
        } else {
          batch.timer = setTimeout(() => void flush(room), options.windowMs - since);
        }
      });
    },
    async flushAll() {
      await Promise.all([...pending.keys()].map(flush));
    },
  };
}
