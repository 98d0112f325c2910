import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // GET /v1/jobs pages every job's attempts newest first by (started_at, id): without a name to lead with,
  // job_runs_recent cannot serve it and each page sorted the whole table (the watchdog alone adds 288 rows
  // a day). With this index a page is a range of it, however deep.
  await sql`CREATE INDEX job_runs_started ON job_runs (started_at DESC, id DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX job_runs_started`.execute(db);
}
