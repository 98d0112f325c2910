import { sql, type Kysely } from 'kysely';

/** Recent job attempts with their duration: what ran when, how long, what failed. */
export async function listJobRuns(db: Kysely<any>, options: { name?: string; status?: string; limit: number }) {
  const { rows } = await sql<{
    id: number;
    name: string;
    period_key: string;
    attempt: number;
    status: string;
    worker: string;
    started_at: Date;
    finished_at: Date | null;
    error: string | null;
  }>`
    SELECT id, name, period_key, attempt, status, worker, started_at, finished_at, error
    FROM job_runs
    WHERE (${options.name ?? null}::text IS NULL OR name = ${options.name ?? null})
      AND (${options.status ?? null}::text IS NULL OR status = ${options.status ?? null})
    ORDER BY started_at DESC, id DESC
    LIMIT ${options.limit}`.execute(db);
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    periodKey: r.period_key,
    attempt: r.attempt,
    status: r.status,
    worker: r.worker,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
    error: r.error,
  }));
}
