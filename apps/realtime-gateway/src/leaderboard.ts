import { sql, type Kysely } from 'kysely';
import { roomChannel } from '@onair/contracts';
import type { Logger } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';
import type { TriggerQueue } from './trigger-queue';

/** Gifters a leaderboard lists per period. */
export const LEADERBOARD_TOP = 10;
/** Longest sender name a leaderboard carries (10 × 2 rows stay far below Pusher's 10 KB event cap). */
const NAME_MAX = 64;

export interface Gifter {
  senderId: string;
  name: string;
  coins: number;
  gifts: number;
}

/** A room's top gifters of the day (UTC) and of the stream on air now (none when the room is offline). */
export interface Leaderboard {
  /** When it was read (ms since the epoch): a client keeps the newest it has seen. */
  at: number;
  day: { day: string; top: Gifter[] };
  stream: { id: number; startedAt: string; top: Gifter[] } | null;
}

/**
 * Reads a room's leaderboards in one statement: the room's open `live_streams` row (the newest without an
 * end) and the top `limit` rows of `day:<day>` and, if on air, `stream:<id>`, through `gift_leaderboard_top`.
 */
export async function readLeaderboard(db: Kysely<any>, room: { platform: string; channelId: string }, nowMs: number, limit = LEADERBOARD_TOP): Promise<Leaderboard> {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  const { rows } = await sql<{ board: 'day' | 'stream'; stream_id: string | null; started_at: Date | null; sender_id: string | null; sender_name: string | null; coins: string | null; gifts: string | null }>`
    WITH stream AS (
      SELECT id, started_at FROM live_streams
      WHERE platform = ${room.platform} AND channel_id = ${room.channelId} AND ended_at IS NULL
      ORDER BY started_at DESC LIMIT 1
    ), day_top AS (
      SELECT sender_id, sender_name, coins, gifts FROM gift_leaderboard
      WHERE platform = ${room.platform} AND channel_id = ${room.channelId} AND period = ${`day:${day}`}
      ORDER BY coins DESC, sender_id LIMIT ${limit}
    ), stream_top AS (
      SELECT l.sender_id, l.sender_name, l.coins, l.gifts FROM gift_leaderboard l, stream s
      WHERE l.platform = ${room.platform} AND l.channel_id = ${room.channelId} AND l.period = 'stream:' || s.id
      ORDER BY l.coins DESC, l.sender_id LIMIT ${limit}
    )
    SELECT 'day' AS board, NULL::bigint AS stream_id, NULL::timestamptz AS started_at, sender_id, sender_name, coins, gifts FROM day_top
    UNION ALL
    SELECT 'stream', s.id, s.started_at, t.sender_id, t.sender_name, t.coins, t.gifts FROM stream s LEFT JOIN stream_top t ON true`.execute(db);
  const gifter = (r: (typeof rows)[number]): Gifter => ({
    senderId: r.sender_id!,
    name: r.sender_name!.slice(0, NAME_MAX),
    coins: Number(r.coins),
    gifts: Number(r.gifts),
  });
  // Both CTEs are ordered, but UNION ALL promises no order: sort again here.
  const order = (a: Gifter, b: Gifter) => b.coins - a.coins || (a.senderId < b.senderId ? -1 : a.senderId > b.senderId ? 1 : 0);
  const streamRows = rows.filter((r) => r.board === 'stream');
  const first = streamRows[0];
  return {
    at: nowMs,
    day: { day, top: rows.filter((r) => r.board === 'day').map(gifter).sort(order) },
    stream: first
      ? { id: Number(first.stream_id), startedAt: first.started_at!.toISOString(), top: streamRows.filter((r) => r.sender_id !== null).map(gifter).sort(order) }
      : null,
  };
}

export interface LeaderboardPusherOptions {
  db: Kysely<any>;
  triggers: TriggerQueue;
  logger: Logger;
  registry: Registry;
  /** Shortest gap between two `leaderboard` events of one room, in ms (1,000: at most one a second). */
  intervalMs: number;
  now?: () => number;
}

/**
 * Sends a room's `leaderboard` event after its gifts, at most once per `intervalMs` per room however many
 * gifts arrive: the first gift after a quiet spell sends at once (after `settleMs`), later ones wait for the
 * window's end, where one read covers them all. The read happens at send time, so it includes every gift
 * committed before it. Per replica: behind R gateway replicas sharing the events consumer a room gets up to
 * R a second.
 */
export function createLeaderboardPusher(options: LeaderboardPusherOptions) {
  const now = options.now ?? Date.now;
  type RoomState = { lastAt: number; timer?: NodeJS.Timeout; forget?: NodeJS.Timeout };
  const rooms = new Map<string, RoomState>();
  const sent = new Counter({
    name: 'gateway_leaderboard_events_total',
    help: 'Leaderboard events sent to rooms (at most one per room per window), by outcome.',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  let stopped = false;

  const push = async (platform: string, channelId: string, key: string, state: RoomState, due: number) => {
    // Node's timers may fire a millisecond before Date.now() says the delay is over (their clock is another
    // one, truncated): wait out the rest, so two of a room's boards are never less than a window apart.
    if (now() < due) {
      state.timer = setTimeout(() => void push(platform, channelId, key, state, due), due - now());
      return;
    }
    state.timer = undefined;
    clearTimeout(state.forget);
    state.lastAt = now();
    try {
      const board = await readLeaderboard(options.db, { platform, channelId }, state.lastAt);
      await options.triggers.send({ channel: roomChannel(platform, channelId), name: 'leaderboard', data: JSON.stringify(board) });
      sent.labels('ok').inc();
    } catch (error) {
      // The next gift sends a newer one; a leaderboard is never worth retrying on its own.
      sent.labels('failed').inc();
      options.logger.warn({ err: error, platform, channelId }, 'leaderboard event not sent');
    }
    if (state.timer || stopped) return; // another send is due: it keeps the state
    // Kept for one window (the gap must hold), then forgotten unless another gift came: bounded by active rooms.
    state.forget = setTimeout(() => {
      if (!state.timer && rooms.get(key) === state) rooms.delete(key);
    }, options.intervalMs);
    state.forget.unref();
  };

  return {
    /**
     * A gift reached the room. `settleMs`: how long to wait at least before reading (a Kick gift is recorded
     * by the gifts service concurrently with its event reaching us; a first-party gift was committed before
     * its event was published, so 0).
     */
    touch(platform: string, channelId: string, settleMs = 0): void {
      if (stopped) return;
      const key = `${platform}\u0000${channelId}`;
      let state = rooms.get(key);
      if (state?.timer) return; // a send is due: it will read this gift too
      if (!state) {
        state = { lastAt: -Infinity };
        rooms.set(key, state);
      }
      const at = now();
      const due = Math.max(state.lastAt + options.intervalMs, at + settleMs);
      const room = state;
      clearTimeout(room.forget);
      room.timer = setTimeout(() => void push(platform, channelId, key, room, due), Math.max(0, due - at));
    },
    /** Rooms with a leaderboard event due or sent within the last window. */
    get rooms(): number {
      return rooms.size;
    },
    stop(): void {
      stopped = true;
      for (const state of rooms.values()) {
        clearTimeout(state.timer);
        clearTimeout(state.forget);
      }
      rooms.clear();
    },
  };
}

export type LeaderboardPusher = ReturnType<typeof createLeaderboardPusher>;
