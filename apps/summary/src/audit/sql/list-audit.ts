import { sql, type Kysely } from 'kysely';

/**
 * Audit entries newest first, `limit` at a time. The cursor is the last id of the previous page
 * (entries below it come next), so pages never overlap or skip while new entries are written.
 */
export async function listAudit(db: Kysely<any>, options: { limit: number; before?: number; targetType?: string; targetId?: string }) {
  const { rows } = await sql<{
    id: string;
    at: Date;
    actor: string;
    operator_id: string | null;
    action: string;
    target_type: string;
    target_id: string;
    before: unknown;
    after: unknown;
  }>`
    SELECT id, at, actor, operator_id, action, target_type, target_id, before, after
    FROM audit_log
    WHERE (${options.before ?? null}::bigint IS NULL OR id < ${options.before ?? null}::bigint)
      AND (${options.targetType ?? null}::text IS NULL OR target_type = ${options.targetType ?? null})
      AND (${options.targetId ?? null}::text IS NULL OR target_id = ${options.targetId ?? null})
    ORDER BY id DESC
    LIMIT ${options.limit + 1}`.execute(db);
  const page = rows.slice(0, options.limit);
  return {
    items: page.map((r) => ({
      id: Number(r.id),
      at: r.at.toISOString(),
      actor: r.actor,
      operatorId: r.operator_id === null ? null : Number(r.operator_id),
      action: r.action,
      target: { type: r.target_type, id: r.target_id },
      before: r.before,
      after: r.after,
    })),
    nextCursor: rows.length > options.limit ? String(page[page.length - 1]!.id) : null,
  };
}
