import { sql, type Kysely } from 'kysely';

/** Where a page of job runs ends: the last row's start (to the microsecond, as stored) and id. */
export interface JobRunsCursor {
  startedAt: string;
  id: number;
}

const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z) ([1-9]\d{0,15})$/;

/** The opaque `nextCursor`: base64url of the last row's start and id. */
export function encodeJobRunsCursor(cursor: JobRunsCursor): string {
  return Buffer.from(`${cursor.startedAt} ${cursor.id}`).toString('base64url');
}

/** The position a cursor names, or undefined when the text is not one `encodeJobRunsCursor` made. */
export function decodeJobRunsCursor(text: string): JobRunsCursor | undefined {
  const match = CURSOR_TEXT.exec(Buffer.from(text, 'base64url').toString('utf8'));
  // A real instant only (no 2026-02-30, no 24:00): the text must survive a round trip to the millisecond.
  const at = match ? new Date(match[1]!) : undefined;
  if (!match || !at || Number.isNaN(at.getTime()) || at.toISOString().slice(0, 23) !== match[1]!.slice(0, 23)) return undefined;
  const id = Number(match[2]);
  return Number.isSafeInteger(id) ? { startedAt: match[1]!, id } : undefined;
}

/**
 * Job attempts with their duration (what ran when, how long, what failed), newest first, a keyset page
 * on (started_at, id) after `after`: rows started meanwhile never shift a page. The cursor keeps
 * started_at's microseconds (JavaScript dates stop at milliseconds), so two runs in one millisecond are
 * neither skipped nor repeated.
 */
export async function listJobRuns(db: Kysely<any>, options: { name?: string; status?: string; limit: number; after?: JobRunsCursor }) {
  const { rows } = await sql<{
    id: string;
    name: string;
    period_key: string;
    attempt: number;
    status: string;
    worker: string;
    started_at: Date;
    started_key: string;
    finished_at: Date | null;
    error: string | null;
  }>`
    SELECT id, name, period_key, attempt, status, worker, started_at, finished_at, error,
           to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_key
    FROM job_runs
    WHERE (${options.name ?? null}::text IS NULL OR name = ${options.name ?? null})
      AND (${options.status ?? null}::text IS NULL OR status = ${options.status ?? null})
      AND (${options.after?.startedAt ?? null}::timestamptz IS NULL
           OR (started_at, id) < (${options.after?.startedAt ?? null}::timestamptz, ${options.after?.id ?? null}::bigint))
    ORDER BY started_at DESC, id DESC
    LIMIT ${options.limit + 1}`.execute(db);
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
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
    })),
    nextCursor: rows.length > options.limit && last ? encodeJobRunsCursor({ startedAt: last.started_key, id: Number(last.id) }) : null,
  };
}
