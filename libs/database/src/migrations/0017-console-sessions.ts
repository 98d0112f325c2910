import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The operators' console signs in with an operator token (or ADMIN_TOKEN) once and then rides an
  // HttpOnly cookie. A session is a row, not a signed cookie: every replica sees it, signing out or
  // disabling the operator ends it at once, and no extra signing secret has to be configured. Only the
  // cookie's SHA-256 is stored, as for operator tokens. An operator's role is read from `operators` on
  // every request (a demotion applies at once); an ADMIN_TOKEN session keeps the token's SHA-256, so
  // rotating ADMIN_TOKEN ends those sessions too.
  await sql`
    CREATE TABLE console_sessions (
      id_sha256         bytea       PRIMARY KEY,
      operator_id       bigint      REFERENCES operators (id) ON DELETE CASCADE,
      admin_token_sha256 bytea,
      created_at        timestamptz NOT NULL,
      expires_at        timestamptz NOT NULL,
      CHECK ((operator_id IS NULL) <> (admin_token_sha256 IS NULL))
    )`.execute(db);
  await sql`CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE console_sessions`.execute(db);
}
