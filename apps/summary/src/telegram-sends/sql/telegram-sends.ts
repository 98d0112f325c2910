import { sql, type Kysely } from 'kysely';

/** Names one message that must reach one chat at most once. */
export interface SendKey {
  /** What sends it, e.g. the job name `daily-summary`. */
  kind: string;
  /** The period it covers, e.g. the UTC day `2026-11-22`. */
  periodKey: string;
  chatId: string;
  /** What it is about within the period, e.g. a hash of the channel set. */
  messageKey: string;
}

export type Claim =
  /** This attempt holds the row (`sending`, committed): it may send, once. */
  | { kind: 'claimed'; id: number }
  | { kind: 'sent'; id: number; messageIds: number[] }
  /** An earlier attempt claimed the row and never recorded an answer; this call marked it `unknown`. */
  | { kind: 'interrupted'; id: number; worker: string; startedAt: Date }
  /** Already `unknown`, reported when it became so. */
  | { kind: 'unknown'; id: number };

/**
 * Claims the send in its own transaction: a new row, or a `failed` one (nothing was posted), becomes
 * `sending` under `claim`. A `sending` row left by an earlier attempt becomes `unknown` instead: that
 * attempt stopped between claiming and recording Telegram's answer, so the message may be in the chat.
 */
export async function claimSend(
  db: Kysely<any>,
  key: SendKey,
  attempt: { claim: string; worker: string; textSha256: string; at: Date },
): Promise<Claim> {
  return db.transaction().execute(async (tx) => {
    const inserted = await sql<{ id: string }>`
      INSERT INTO telegram_sends (kind, period_key, chat_id, message_key, state, claim, worker, text_sha256, started_at, updated_at)
      VALUES (${key.kind}, ${key.periodKey}, ${key.chatId}, ${key.messageKey}, 'sending', ${attempt.claim}, ${attempt.worker},
              ${attempt.textSha256}, ${attempt.at}, ${attempt.at})
      ON CONFLICT (kind, period_key, chat_id, message_key) DO NOTHING
      RETURNING id`.execute(tx);
    if (inserted.rows[0]) return { kind: 'claimed', id: Number(inserted.rows[0].id) };

    const { rows } = await sql<{ id: string; state: string; worker: string; started_at: Date; message_ids: string[] }>`
      SELECT id, state, worker, started_at, message_ids FROM telegram_sends
      WHERE kind = ${key.kind} AND period_key = ${key.periodKey} AND chat_id = ${key.chatId} AND message_key = ${key.messageKey}
      FOR UPDATE`.execute(tx);
    const row = rows[0]!;
    const id = Number(row.id);
    if (row.state === 'sent') return { kind: 'sent', id, messageIds: row.message_ids.map(Number) };
    if (row.state === 'unknown') return { kind: 'unknown', id };
    if (row.state === 'sending') {
      await sql`
        UPDATE telegram_sends SET state = 'unknown', updated_at = ${attempt.at},
          error = ${`interrupted: the attempt by ${row.worker} that started at ${row.started_at.toISOString()} never recorded Telegram's answer; not sent again`}
        WHERE id = ${id}`.execute(tx);
      return { kind: 'interrupted', id, worker: row.worker, startedAt: row.started_at };
    }
    await sql`
      UPDATE telegram_sends SET state = 'sending', claim = ${attempt.claim}, worker = ${attempt.worker}, text_sha256 = ${attempt.textSha256},
        started_at = ${attempt.at}, updated_at = ${attempt.at}, error = NULL
      WHERE id = ${id}`.execute(tx);
    return { kind: 'claimed', id };
  });
}

/**
 * Records what became of a claimed send, in its own commit. Only the claiming attempt writes: it knows
 * the answer, so its `sent` stands even when another attempt meanwhile took the row for interrupted.
 */
export async function recordSendOutcome(
  db: Kysely<any>,
  id: number,
  claim: string,
  outcome: { state: 'sent'; messageIds: number[]; at: Date } | { state: 'failed' | 'unknown'; error: string; at: Date },
): Promise<void> {
  if (outcome.state === 'sent') {
    await sql`
      UPDATE telegram_sends SET state = 'sent', message_ids = ${outcome.messageIds}::bigint[], sent_at = ${outcome.at}, updated_at = ${outcome.at}, error = NULL
      WHERE id = ${id} AND claim = ${claim}`.execute(db);
    return;
  }
  await sql`
    UPDATE telegram_sends SET state = ${outcome.state}, updated_at = ${outcome.at}, error = ${outcome.error}
    WHERE id = ${id} AND claim = ${claim}`.execute(db);
}

/**
 * An operator's word that the `unknown` sends of a period never reached the chat: they become `failed`,
 * so the next send of the same message claims them and posts. Returns the ids released.
 */
export async function releaseUnknownSends(
  db: Kysely<any>,
  key: Omit<SendKey, 'messageKey'>,
  release: { reason: string; at: Date },
): Promise<number[]> {
  const { rows } = await sql<{ id: string }>`
    UPDATE telegram_sends SET state = 'failed', updated_at = ${release.at}, error = ${`released by an operator: ${release.reason} (was: ` } || coalesce(error, 'unknown') || ')'
    WHERE kind = ${key.kind} AND period_key = ${key.periodKey} AND chat_id = ${key.chatId} AND state = 'unknown'
    RETURNING id`.execute(db);
  return rows.map((r) => Number(r.id));
}
