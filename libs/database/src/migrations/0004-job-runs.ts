import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per attempt of a job for a period: "what ran when, how long, what failed" is a query.
  await sql`
    CREATE TABLE job_runs (
      id          bigserial   PRIMARY KEY,
      name        text        NOT NULL,
      period_key  text        NOT NULL,
      attempt     integer     NOT NULL,
      status      text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
      worker      text        NOT NULL,
      started_at  timestamptz NOT NULL,
      finished_at timestamptz,
      error       text,
      UNIQUE (name, period_key, attempt)
    )`.execute(db);
  await sql`CREATE INDEX job_runs_recent ON job_runs (name, started_at DESC)`.execute(db);
  // At most one success per job and period: a redelivered job that already succeeded is acked, not rerun.
  await sql`CREATE UNIQUE INDEX job_runs_one_success ON job_runs (name, period_key) WHERE status = 'succeeded'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE job_runs`.execute(db);
}
