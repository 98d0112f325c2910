import { sql, type Kysely } from 'kysely';
import type { Principal } from '../../operators/principal';

export interface AuditEntry {
  action: string;
  /** `summary`: a day's summary (targetId the day), what a rerun request names. */
  targetType: 'streamer' | 'operator' | 'summary';
  targetId: number | string;
  before: unknown;
  after: unknown;
}

/**
 * One audit row; called inside the transaction of the write it records, so both commit or neither. A write
 * about a streamer is an operator action: the streamer's last activity (migration 0016) moves to its time,
 * in the same statement, unless something newer is stored (replicas' clocks differ by a little).
 */
export async function insertAudit(db: Kysely<any>, who: Principal, at: Date, entry: AuditEntry): Promise<void> {
  const streamerId = entry.targetType === 'streamer' ? Number(entry.targetId) : null;
  await sql`
    WITH entry AS (
      INSERT INTO audit_log (at, actor, operator_id, action, target_type, target_id, before, after)
      VALUES (${at}, ${who.actor}, ${who.operatorId}, ${entry.action}, ${entry.targetType}, ${String(entry.targetId)},
              ${entry.before === null || entry.before === undefined ? null : JSON.stringify(entry.before)}::jsonb,
              ${entry.after === null || entry.after === undefined ? null : JSON.stringify(entry.after)}::jsonb)
      RETURNING at
    )
    UPDATE streamers s SET last_activity_at = entry.at, last_activity_kind = 'operator'
    FROM entry
    WHERE s.id = ${streamerId}::bigint AND (s.last_activity_at IS NULL OR s.last_activity_at <= entry.at)`.execute(db);
}
