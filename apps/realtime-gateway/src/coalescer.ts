/**
 * Per-room coalescing of fan-out events. A quiet room's item is sent at once, with no added wait. A
 * busy room — one that flushed less than `windowMs` ago — has its items gathered until `windowMs` after
 * that flush and sent together, so a room costs at most one flush per window however fast it chats
 * (500 messages/s with a 100 ms window: at most 10 flushes/s).
 *
 * A room has at most one send in flight, and its flushes go out in order: what arrives while one is in
 * flight waits for it and goes in the next. Clients rely on a room's events arriving in sequence order (a
 * socket that resubscribes mid-way then holds a suffix of them, ending at the room's newest); two sends of
 * one room racing (the tail wait, the HTTP calls) could put an older event after a newer one, and a client
 * that came back between them would hold the older as its newest and never learn of the newer.
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
  /** Rooms with a send in flight, and that send. */
  const inFlight = new Map<string, Promise<void>>();

  /** Arms the pending batch of a room: at once when its window has passed, else at the window's end. */
  const arm = (room: string, batch: Pending) => {
    if (batch.timer || inFlight.has(room)) return;
    const since = now() - (lastFlush.get(room) ?? -Infinity);
    if (since >= options.windowMs) void flush(room);
    else batch.timer = setTimeout(() => void flush(room), options.windowMs - since);
  };

  const flush = async (room: string) => {
    const batch = pending.get(room);
    if (!batch || inFlight.has(room)) return;
    pending.delete(room);
    clearTimeout(batch.timer);
    lastFlush.set(room, now());
    const sending = (async () => {
      try {
        await options.send(room, batch.items);
        for (const w of batch.waiters) w.resolve();
      } catch (error) {
        for (const w of batch.waiters) w.reject(error);
      }
    })();
    inFlight.set(room, sending);
    await sending;
    inFlight.delete(room);
    // What came in meanwhile goes next, once its window allows.
    const next = pending.get(room);
    if (next) arm(room, next);
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
        arm(room, batch);
      });
    },
    async flushAll() {
      while (pending.size > 0 || inFlight.size > 0) {
        await Promise.all([...inFlight.values()]);
        await Promise.all([...pending.keys()].map(flush));
      }
    },
  };
}
