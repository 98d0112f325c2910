import { sql, type Kysely } from 'kysely';

/** True when the job already succeeded for the period: a repeated request is acknowledged, not rerun. */
export async function hasSucceeded(db: Kysely<any>, name: string, periodKey: string): Promise<boolean> {
  const { rows } = await sql`
    SELECT 1 FROM job_runs WHERE name = ${name} AND period_key = ${periodKey} AND status = 'succeeded' LIMIT 1`.execute(db);
  return rows.length > 0;
}

/**
 * Records the start of an attempt. An earlier attempt still marked running belonged to a worker that
 * died (this job runs once at a time, so it cannot be running elsewhere): it is closed as abandoned.
 */
export async function startRun(
  db: Kysely<any>,
  run: { name: string; periodKey: string; attempt: number; worker: string; startedAt: Date },
): Promise<number> {
  return db.transaction().execute(async (tx) => {
    await sql`
      UPDATE job_runs SET status = 'failed', finished_at = ${run.startedAt}, error = 'abandoned: the worker stopped answering'
      WHERE name = ${run.name} AND period_key = ${run.periodKey} AND status = 'running'`.execute(tx);
    const { rows } = await sql<{ id: number }>`
      INSERT INTO job_runs (name, period_key, attempt, status, worker, started_at)
      VALUES (${run.name}, ${run.periodKey}, ${run.attempt}, 'running', ${run.worker}, ${run.startedAt})
      ON CONFLICT (name, period_key, attempt) DO UPDATE
        SET status = 'running', worker = EXCLUDED.worker, started_at = EXCLUDED.started_at, finished_at = NULL, error = NULL
      RETURNING id`.execute(tx);
    return Number(rows[0]!.id);
  });
}

/** Closes an attempt as succeeded or failed (with the error's message). */
export async function finishRun(
  db: Kysely<any>,
  id: number,
  outcome: { status: 'succeeded' | 'failed'; finishedAt: Date; error?: string },
): Promise<void> {
  await sql`
    UPDATE job_runs SET status = ${outcome.status}, finished_at = ${outcome.finishedAt}, error = ${outcome.error ?? null}
    WHERE id = ${id}`.execute(db);
}
