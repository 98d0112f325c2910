import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // POST /v1/summaries/rerun takes an Idempotency-Key: the key means one rerun (one job, one message, one
  // audit row) however late the retry comes. The audit row is the record of the key, so a unique index over
  // (who, key) is what makes two racing requests one: the second one's insert waits for the first's
  // transaction and then fails, and the route answers it with the first one's run. Operators only: ADMIN_TOKEN
  // (operator_id null) is scope 0. Partial, so the audit log's other rows pay nothing.
  await sql`
    CREATE UNIQUE INDEX audit_log_rerun_idempotency
      ON audit_log (COALESCE(operator_id, 0), (after ->> 'idempotencyKey'))
      WHERE action = 'summary.rerun' AND after ? 'idempotencyKey'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX audit_log_rerun_idempotency`.execute(db);
}
