import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per message that must reach a chat at most once (the Bot API has no idempotency key), written
  // before the request goes out (`sending`) and after Telegram's answer (`sent`), each in its own commit.
  // A `sending` row found by a later attempt means the earlier one stopped inside that window: the message
  // may or may not be in the chat, so it becomes `unknown` and is never sent again on its own.
  await sql`
    CREATE TABLE telegram_sends (
      id           bigserial   PRIMARY KEY,
      kind         text        NOT NULL,
      period_key   text        NOT NULL,
      chat_id      text        NOT NULL,
      -- What the message is about within the period, e.g. a hash of the channel set.
      message_key  text        NOT NULL,
      state        text        NOT NULL CHECK (state IN ('sending', 'sent', 'unknown', 'failed')),
      -- Names the attempt that holds the row: only it records the answer.
      claim        text        NOT NULL,
      worker       text        NOT NULL,
      text_sha256  text        NOT NULL,
      message_ids  bigint[]    NOT NULL DEFAULT '{}',
      started_at   timestamptz NOT NULL,
      sent_at      timestamptz,
      updated_at   timestamptz NOT NULL,
      error        text,
      UNIQUE (kind, period_key, chat_id, message_key)
    )`.execute(db);
  // What an operator looks for: sends whose outcome nobody knows.
  await sql`CREATE INDEX telegram_sends_unknown ON telegram_sends (updated_at) WHERE state = 'unknown'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE telegram_sends`.execute(db);
}
