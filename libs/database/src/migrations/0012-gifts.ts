import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // What can be sent, and for how many coins.
  await sql`
    CREATE TABLE gift_catalog (
      id          text        PRIMARY KEY,
      name        text        NOT NULL,
      price_coins integer     NOT NULL CHECK (price_coins > 0),
      active      boolean     NOT NULL DEFAULT true,
      created_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // First-party rooms that take gifts, and whose owner receives them.
  await sql`
    CREATE TABLE gift_rooms (
      room_id    text        PRIMARY KEY,
      owner_id   text        NOT NULL,
      open       boolean     NOT NULL DEFAULT true,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // One row per account: the folded balance. A sender's debit is a conditional UPDATE of its own row
  // (never below zero); credits to a recipient are appended to the ledger unfolded and folded later, so a
  // hot room's owner is not a row every gift waits for.
  await sql`
    CREATE TABLE wallets (
      account    text        PRIMARY KEY,
      balance    bigint      NOT NULL DEFAULT 0 CHECK (balance >= 0),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // Every movement of coins, once per (scope, idempotency key) for ever; `outcome` is the answer given,
  // returned again to a retry. A refused request is a transaction with no entries.
  await sql`
    CREATE TABLE ledger_txns (
      id              bigserial   PRIMARY KEY,
      kind            text        NOT NULL CHECK (kind IN ('gift', 'grant', 'refund', 'purchase', 'platform_gift')),
      scope           text        NOT NULL,
      idempotency_key text        NOT NULL,
      outcome         jsonb,
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (scope, idempotency_key)
    )`.execute(db);
  // Double entry: the entries of a transaction sum to zero. `folded` entries are already in their wallet's
  // balance; unfolded ones (credits to recipients) are added to it by the fold.
  await sql`
    CREATE TABLE ledger_entries (
      id         bigserial   PRIMARY KEY,
      txn_id     bigint      NOT NULL REFERENCES ledger_txns (id),
      account    text        NOT NULL,
      amount     bigint      NOT NULL CHECK (amount <> 0),
      folded     boolean     NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX ledger_entries_txn ON ledger_entries (txn_id)`.execute(db);
  await sql`CREATE INDEX ledger_entries_unfolded ON ledger_entries (account, id) WHERE NOT folded`.execute(db);
  // Gifts as rooms see them: first-party (with their ledger transaction) and platform gifts (Kick's
  // kicks.gifted: no wallet movement, once per event id). published_at: the outbox of the room event.
  await sql`
    CREATE TABLE gifts (
      id           bigserial   PRIMARY KEY,
      platform     text        NOT NULL,
      channel_id   text        NOT NULL,
      txn_id       bigint      REFERENCES ledger_txns (id),
      external_id  text,
      sender_id    text        NOT NULL,
      sender_name  text        NOT NULL,
      recipient_id text        NOT NULL,
      gift_id      text        NOT NULL,
      gift_name    text        NOT NULL,
      quantity     integer     NOT NULL CHECK (quantity > 0),
      coins        bigint      NOT NULL CHECK (coins >= 0),
      day          date        NOT NULL,
      stream_key   text,
      sent_at      timestamptz NOT NULL,
      published_at timestamptz,
      UNIQUE (platform, external_id)
    )`.execute(db);
  await sql`CREATE INDEX gifts_unpublished ON gifts (id) WHERE published_at IS NULL`.execute(db);
  await sql`CREATE INDEX gifts_channel_day ON gifts (platform, channel_id, day)`.execute(db);
  // Leaderboards: coins per sender per room per day and per stream, kept in the gift's transaction. One
  // row per (room, period, sender): distinct senders in a hot room never touch the same row.
  await sql`
    CREATE TABLE gift_leaderboard (
      platform    text   NOT NULL,
      channel_id  text   NOT NULL,
      period      text   NOT NULL,
      sender_id   text   NOT NULL,
      sender_name text   NOT NULL,
      coins       bigint NOT NULL,
      gifts       bigint NOT NULL,
      PRIMARY KEY (platform, channel_id, period, sender_id)
    )`.execute(db);
  await sql`CREATE INDEX gift_leaderboard_top ON gift_leaderboard (platform, channel_id, period, coins DESC)`.execute(db);
  // A starting catalog (operators change it through the gifts API).
  await sql`
    INSERT INTO gift_catalog (id, name, price_coins) VALUES
      ('rose', 'Rose', 1), ('heart', 'Heart', 5), ('star', 'Star', 25), ('rocket', 'Rocket', 100)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['gift_leaderboard', 'gifts', 'ledger_entries', 'ledger_txns', 'wallets', 'gift_rooms', 'gift_catalog']) {
    await sql`DROP TABLE ${sql.id(table)}`.execute(db);
  }
}
