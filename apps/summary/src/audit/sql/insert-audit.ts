import { sql, type Kysely } from 'kysely';
import type { Principal } from '../../operators/principal';

export interface AuditEntry {
  action: string;
  targetType: 'streamer' | 'operator';
  targetId: number | string;
  before: unknown;
  after: unknown;
}

/** One audit row; called inside the transaction of the write it records, so both commit or neither. */
export async function insertAudit(db: Kysely<any>, who: Principal, at: Date, entry: AuditEntry): Promise<void> {
  await sql`
    INSERT INTO audit_log (at, actor, operator_id, action, target_type, target_id, before, after)
    VALUES (${at}, ${who.actor}, ${who.operatorId}, ${entry.action}, ${entry.targetType}, ${String(entry.targetId)},
            ${entry.before === null || entry.before === undefined ? null : JSON.stringify(entry.before)}::jsonb,
            ${entry.after === null || entry.after === undefined ? null : JSON.stringify(entry.after)}::jsonb)`.execute(db);
}
