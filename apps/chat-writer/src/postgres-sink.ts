import type { Kysely } from 'kysely';
import type pg from 'pg';
import { copyChatMessages, ensureMonthlyPartition, insertChatMessages, monthStart, type ChatRow } from '@onair/database';

import type { BatchContext, JsMsg } from '@onair/messaging';
import { decodeChatBatch, type DecodedRow } from './decode';
import type { WriterMetrics } from './metrics';

export interface PostgresSinkOptions {
  db: Kysely<any>;
  pool: pg.Pool;
  method: 'unnest' | 'copy';
  metrics: WriterMetrics;
}

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

  return async function handle(batch: JsMsg[], context: BatchContext): Promise<void> {
    const decoded = await decodeChatBatch(batch, context);
    if (decoded.length === 0) return;
    const rows = decoded.map((d) => d.row);
    await ensurePartitions(rows);
    const stop = seconds.labels('postgres').startTimer();
    try {
      written.labels('postgres').inc(await write(rows));
    } catch (error) {
      if (isTransient(error)) throw error;
      // One bad row fails the whole statement; write row by row to find it and keep the rest.
      for (const { msg, row } of decoded) {
        try {
          written.labels('postgres').inc(await write([row]));
        } catch (rowError) {
          if (isTransient(rowError)) throw rowError;
          await context.deadLetter(msg, `postgres refused the row: ${(rowError as Error).message}`);
        }
      }
    } finally {
      stop();
    }
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
