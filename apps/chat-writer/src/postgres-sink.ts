import type { Kysely } from 'kysely';
import type pg from 'pg';
import { copyChatMessages, ensureMonthlyPartition, insertChatMessages, monthStart, type ChatRow } from '@onair/database';

import type { BatchContext, JsMsg } from '@onair/messaging';
import { decodeChatBatch, type DecodedRow } from './decode';
import type { WriterMetrics } from './metrics';
import { recordChatActivity, type ChannelChat } from './sql/record-chat-activity';

export interface PostgresSinkOptions {
  db: Kysely<any>;
  pool: pg.Pool;
  method: 'unnest' | 'copy';
  metrics: WriterMetrics;
  /**
   * Least gap, in ms, between a streamer's stored last activity and a batch's newest message of its channel
   * for the batch to move it (sql/record-chat-activity.ts). 30 s: the operators' list is at most that much
   * behind a busy chat, and a hot channel rewrites its streamer row twice a minute instead of every batch.
   */
  activityThrottleMs?: number;
}

/** Channels whose streamer's last activity this process remembers; past this many it starts over (a few MB at most). */
const MAX_REMEMBERED_CHANNELS = 50_000;

/**
 * Writes chat batches to Postgres. The batch consumer acks only after this resolves, i.e. after the
 * commit; a thrown error leaves every message in the stream for redelivery.
 */
export function createPostgresSink(options: PostgresSinkOptions) {
  const { written, seconds } = options.metrics;
  const write = options.method === 'copy'
    ? (rows: readonly ChatRow[]) => copyChatMessages(options.pool, rows)
    : (rows: readonly ChatRow[]) => insertChatMessages(options.db, rows);
  // Months (`2026-11`, from the canonical UTC timestamp) whose partition this process has made sure of.
  const knownMonths = new Set<string>();

  async function ensurePartitions(rows: readonly ChatRow[]) {
    for (const row of rows) {
      const month = row.sentAt.slice(0, 7);
      if (knownMonths.has(month)) continue;
      await ensureMonthlyPartition(options.db, 'chat_messages', monthStart(new Date(row.sentAt)));
      knownMonths.add(month);
    }
  }

  const throttleMs = options.activityThrottleMs ?? 30_000;
  // Per channel, its streamer's last activity as the last statement left it (ms; it only moves forward, so
  // this is a lower bound): a channel whose batch is no more than the throttle newer is left out before any
  // statement is sent, the same test the statement makes, so a hot channel costs no round trip on most
  // batches. A channel no streamer owns is remembered at its own newest message. The statement's check
  // covers what other replicas moved meanwhile.
  const known = new Map<string, number>();

  /** Moves the streamers' last activity for the channels of the rows written, at most once per throttle. */
  async function recordActivity(rows: readonly ChatRow[]) {
    const newest = new Map<string, ChannelChat>();
    for (const row of rows) {
      const key = `${row.platform}\u0000${row.channelId}`;
      const at = Math.min(Date.parse(row.sentAt), Date.parse(row.receivedAt));
      const seen = newest.get(key);
      if (!seen || seen.at.getTime() < at) newest.set(key, { platform: row.platform, channelId: row.channelId, at: new Date(at) });
    }
    const due = [...newest].filter(([key, c]) => c.at.getTime() - (known.get(key) ?? -Infinity) > throttleMs);
    if (due.length === 0) return;
    const stored = await recordChatActivity(options.db, due.map(([, c]) => c), throttleMs);
    if (known.size + due.length > MAX_REMEMBERED_CHANNELS) known.clear();
    for (const [key, c] of due) known.set(key, c.at.getTime());
    for (const s of stored) {
      const key = `${s.platform}\u0000${s.channelId}`;
      if (s.lastActivityAt) known.set(key, s.lastActivityAt.getTime());
      else known.delete(key);
    }
  }

  return async function handle(batch: JsMsg[], context: BatchContext): Promise<void> {
    const decoded = await decodeChatBatch(batch, context);
    if (decoded.length === 0) return;
    let rows = decoded.map((d) => d.row);
    await ensurePartitions(rows);
    const stop = seconds.labels('postgres').startTimer();
    try {
      written.labels('postgres').inc(await write(rows));
    } catch (error) {
      if (isTransient(error)) throw error;
      // One bad row fails the whole statement; write row by row to find it and keep the rest.
      rows = [];
      for (const { msg, row } of decoded) {
        try {
          written.labels('postgres').inc(await write([row]));
          rows.push(row);
        } catch (rowError) {
          if (isTransient(rowError)) throw rowError;
          await context.deadLetter(msg, `postgres refused the row: ${(rowError as Error).message}`);
        }
      }
    } finally {
      stop();
    }
    // After the rows are stored: a failure here redelivers the batch, whose rows then collide and are dropped.
    await recordActivity(rows);
  };
}

/**
 * Errors worth retrying: the server is unreachable, restarting, overloaded or the transaction lost a
 * race. Data errors (classes 22 and 23 but unique violations, which ON CONFLICT absorbs) are not.
 */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (typeof code !== 'string') return true;
  if (/^(08|53|57|58|40)/.test(code)) return true;
  if (/^[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ETIMEDOUT, ECONNRESET …
  return !/^(22|23|42)/.test(code);
}
