import { sql, type Kysely } from 'kysely';
import { compileValidator, ChatMessage, type Topology } from '@onair/contracts';
import type { Messaging } from '@onair/messaging';
import type { ChatItem } from './chat-fanout';
import type { RoomTail } from './room-tail';

const validator = compileValidator(ChatMessage);

/** What a history request asks for: the newest `limit`, the `limit` before a sequence, or the `limit` after one. */
export type HistoryQuery = { limit: number } & ({ after: number; before?: undefined } | { before: number; after?: undefined } | { after?: undefined; before?: undefined });

export interface HistoryPage {
  /** Oldest first. */
  items: ChatItem[];
  /** The newest sequence covered: go live (or page forward with `after`) from here. */
  next: number;
  /** The oldest sequence in the page, for scrolling back (`before=`); null when the page is empty. */
  before: number | null;
  /** With `after`: more messages follow this page (a client far behind jumps to the newest instead). */
  more: boolean;
  /** Where the page came from: the replica's memory, Postgres, the stream, or a mix. */
  source: string;
}

export interface HistoryDeps {
  messaging: Messaging;
  topology: Topology;
  db: Kysely<any>;
  tail: RoomTail;
  /** The stream sequence up to which every chat message is in Postgres (chat-writer's ack floor; cached). */
  postgresFloor(): Promise<number>;
}

/**
 * A room's history in a bounded number of round trips, whatever the room's size and the stream's retention:
 *
 * - the replica's tail (room-tail.ts) holds the newest messages of every room that spoke since it started:
 *   a join's "newest N" of a hot room is a memory read (0 round trips);
 * - Postgres holds everything chat-writer has stored, indexed by `(platform, channel_id, stream_seq)`: the
 *   rest is one index range read, newest or oldest first, with LIMIT (1 round trip; it never walks the stream);
 * - between the two, the messages Postgres does not hold yet (chat-writer's lag, ~100 ms) and the tail does not
 *   hold (older than this replica): read from the stream by subject, only when that window is not empty,
 *   i.e. for a replica younger than chat-writer's lag. Bounded by `limit` reads.
 * If Postgres cannot be read, a page is served from the tail and the stream alone.
 */
export async function roomHistory(deps: HistoryDeps, room: { platform: string; channelId: string; channel: string }, query: HistoryQuery): Promise<HistoryPage> {
  const { limit } = query;
  const tail = deps.tail.get(room.channel);
  const sources = new Set<string>();
  const lo = query.after ?? -Infinity; // exclusive
  const hi = query.before ?? Infinity; // exclusive
  const inWindow = (seq: number) => seq > lo && seq < hi;
  const fromTail = tail.items.filter((m) => inWindow(m.seq));
  const newestFirst = query.after === undefined;

  // The tail alone answers when the window's relevant end lies inside what it holds completely.
  if (newestFirst ? fromTail.length >= limit : lo + 1 >= tail.completeFrom) {
    sources.add('tail');
    return page(fromTail, query, sources, fromTail.length > limit);
  }

  // Below the tail: Postgres, plus the stream for what Postgres does not hold yet.
  const upper = Math.min(hi, tail.completeFrom); // exclusive: the tail covers [completeFrom, ∞)
  let candidates: ChatItem[] = [...fromTail];
  let postgresOk = true;
  try {
    const [rows, floor] = await Promise.all([readPostgres(deps.db, room, lo, upper, limit, newestFirst), deps.postgresFloor()]);
    sources.add('history');
    candidates.push(...rows);
    // (floor, upper) may hold messages chat-writer has not stored yet; an oldest-first page that Postgres
    // filled already lies below them.
    const gapFrom = Math.max(floor, lo);
    const filled = !newestFirst && rows.length > limit;
    if (!filled && gapFrom + 1 < upper) candidates.push(...(await walkStream(deps, room, gapFrom, upper, limit, sources)));
  } catch {
    postgresOk = false;
  }
  // Without Postgres: forward from a known sequence the stream can still answer; the newest are the tail's.
  if (!postgresOk && !newestFirst) candidates.push(...(await walkStream(deps, room, lo, upper, limit, sources)));
  if (!postgresOk) sources.add('tail');
  const unique = new Map<number, ChatItem>();
  for (const item of candidates) unique.set(item.seq, item);
  candidates = [...unique.values()].sort((a, b) => a.seq - b.seq);
  return page(candidates, query, sources, candidates.length > limit);
}

function page(items: ChatItem[], query: HistoryQuery, sources: Set<string>, beyond: boolean): HistoryPage {
  const chosen = query.after === undefined ? items.slice(-query.limit) : items.slice(0, query.limit);
  return {
    items: chosen,
    next: chosen.at(-1)?.seq ?? query.after ?? (query.before !== undefined ? query.before - 1 : 0),
    before: chosen[0]?.seq ?? null,
    more: query.after !== undefined && beyond,
    source: [...sources].join('+') || 'tail',
  };
}

/** Rows with lo < stream_seq < hi, the `limit` newest (or oldest), ascending. */
async function readPostgres(db: Kysely<any>, room: { platform: string; channelId: string }, lo: number, hi: number, limit: number, newestFirst: boolean): Promise<ChatItem[]> {
  const { rows } = await sql<{ stream_seq: string; message_id: string; sender_id: string; sender_username: string; content: string; sent_at: Date }>`
    SELECT stream_seq, message_id, sender_id, sender_username, content, sent_at
    FROM chat_messages
    WHERE platform = ${room.platform} AND channel_id = ${room.channelId}
      AND stream_seq > ${Number.isFinite(lo) ? lo : -1} ${Number.isFinite(hi) ? sql`AND stream_seq < ${hi}` : sql``}
    ORDER BY stream_seq ${newestFirst ? sql`DESC` : sql`ASC`}
    LIMIT ${limit + 1}`.execute(db);
  return rows
    .map((r) => ({
      seq: Number(r.stream_seq),
      id: r.message_id,
      platform: room.platform,
      sender: { id: r.sender_id, name: r.sender_username },
      content: r.content,
      sentAt: r.sent_at.toISOString(),
    }))
    .sort((a, b) => a.seq - b.seq);
}

/** The room's messages with lo < seq < hi from the stream, by subject, at most `limit + 1` reads. */
async function walkStream(deps: HistoryDeps, room: { platform: string; channelId: string }, lo: number, hi: number, limit: number, sources: Set<string>): Promise<ChatItem[]> {
  const stream = deps.topology.chat.stream;
  const subject = deps.topology.chat.subject(room.platform, room.channelId);
  const items: ChatItem[] = [];
  let cursor = Number.isFinite(lo) ? lo + 1 : (await deps.messaging.jsm.streams.info(stream)).state.first_seq;
  sources.add('stream');
  while (items.length <= limit && cursor < hi) {
    // next_by_subj: the first message on this room's subject at or after `cursor`.
    const stored = await deps.messaging.jsm.streams.getMessage(stream, { seq: cursor, next_by_subj: subject } as unknown as { seq: number });
    if (!stored || stored.seq >= hi) break;
    cursor = stored.seq + 1;
    const value: unknown = stored.json();
    if (!validator.check(value)) continue;
    items.push({ seq: stored.seq, id: value.messageId, platform: value.platform, sender: { id: value.senderId, name: value.senderUsername }, content: value.content, sentAt: value.sentAt });
  }
  return items;
}
