import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // People who run the platform. A token is shown once at creation; only its SHA-256 is kept, so a leaked
  // table does not leak credentials (the tokens are 32 random bytes: no salt or slow hash is needed).
  await sql`
    CREATE TABLE operators (
      id           bigserial   PRIMARY KEY,
      name         text        NOT NULL UNIQUE,
      role         text        NOT NULL CHECK (role IN ('admin', 'operator')),
      token_sha256 bytea       NOT NULL UNIQUE,
      created_at   timestamptz NOT NULL,
      created_by   text        NOT NULL,
      disabled_at  timestamptz
    )`.execute(db);
  // Pausing a streamer is status 'suspended' (the prober's claim skips it); removing it is 'archived'
  // (history kept). The assignment decides which operator sees and changes it.
  await sql`
    ALTER TABLE streamers
      ADD COLUMN assigned_operator_id bigint REFERENCES operators (id) ON DELETE SET NULL,
      ADD COLUMN notes text NOT NULL DEFAULT ''`.execute(db);
  await sql`CREATE INDEX streamers_assigned ON streamers (assigned_operator_id, id) WHERE assigned_operator_id IS NOT NULL`.execute(db);
  // Every write through the admin API: who, what, the row before and after, when.
  await sql`
    CREATE TABLE audit_log (
      id          bigserial   PRIMARY KEY,
      at          timestamptz NOT NULL,
      actor       text        NOT NULL,
      operator_id bigint      REFERENCES operators (id) ON DELETE SET NULL,
      action      text        NOT NULL,
      target_type text        NOT NULL,
      target_id   text        NOT NULL,
      before      jsonb,
      after       jsonb
    )`.execute(db);
  // What the last reconcile or watchdog pass found per channel (the gauges read it), and each drift seen.
  await sql`
    CREATE TABLE kick_subscription_state (
      channel_id        bigint      PRIMARY KEY REFERENCES streamer_channels (id) ON DELETE CASCADE,
      wanted            integer     NOT NULL,
      present           integer     NOT NULL,
      checked_at        timestamptz NOT NULL,
      silent_since      timestamptz,
      resubscribed_at   timestamptz,
      resubscribe_count integer     NOT NULL DEFAULT 0
    )`.execute(db);
  await sql`
    CREATE TABLE kick_subscription_drift (
      id         bigserial   PRIMARY KEY,
      channel_id bigint      NOT NULL REFERENCES streamer_channels (id) ON DELETE CASCADE,
      at         timestamptz NOT NULL,
      source     text        NOT NULL CHECK (source IN ('onboarding', 'reconcile', 'watchdog')),
      missing    text[]      NOT NULL,
      strays     text[]      NOT NULL,
      created    integer     NOT NULL,
      deleted    integer     NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX kick_subscription_drift_channel ON kick_subscription_drift (channel_id, at DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE kick_subscription_drift`.execute(db);
  await sql`DROP TABLE kick_subscription_state`.execute(db);
  await sql`DROP TABLE audit_log`.execute(db);
  await sql`DROP INDEX streamers_assigned`.execute(db);
  await sql`ALTER TABLE streamers DROP COLUMN assigned_operator_id, DROP COLUMN notes`.execute(db);
  await sql`DROP TABLE operators`.execute(db);
}
