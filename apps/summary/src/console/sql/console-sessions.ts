import { sql, type Kysely } from 'kysely';
import type { OperatorRole } from '../../operators/principal';

export async function insertConsoleSession(
  db: Kysely<any>,
  row: { idHash: Buffer; operatorId: number | null; adminTokenHash: Buffer | null; at: Date; expiresAt: Date },
): Promise<void> {
  await sql`
    INSERT INTO console_sessions (id_sha256, operator_id, admin_token_sha256, created_at, expires_at)
    VALUES (${row.idHash}, ${row.operatorId}, ${row.adminTokenHash}, ${row.at}, ${row.expiresAt})`.execute(db);
}

export interface StoredSession {
  /** null: an ADMIN_TOKEN session. */
  operatorId: number | null;
  adminTokenHash: Buffer | null;
  /** The operator's current name and role; null when the operator is disabled (the session is void). */
  operator: { name: string; role: OperatorRole } | null;
  expiresAt: Date;
}

/** The unexpired session whose cookie hashes to `idHash`, with its operator as they are now. */
export async function findConsoleSession(db: Kysely<any>, idHash: Buffer, now: Date): Promise<StoredSession | undefined> {
  const { rows } = await sql<{ operator_id: string | null; admin_token_sha256: Buffer | null; name: string | null; role: OperatorRole | null; expires_at: Date }>`
    SELECT s.operator_id, s.admin_token_sha256, o.name, o.role, s.expires_at
    FROM console_sessions s
    LEFT JOIN operators o ON o.id = s.operator_id AND o.disabled_at IS NULL
    WHERE s.id_sha256 = ${idHash} AND s.expires_at > ${now}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    operatorId: row.operator_id === null ? null : Number(row.operator_id),
    adminTokenHash: row.admin_token_sha256,
    operator: row.name !== null && row.role !== null ? { name: row.name, role: row.role } : null,
    expiresAt: row.expires_at,
  };
}

export async function deleteConsoleSession(db: Kysely<any>, idHash: Buffer): Promise<void> {
  await sql`DELETE FROM console_sessions WHERE id_sha256 = ${idHash}`.execute(db);
}

/** Expired sessions, a bounded batch at a time (called on sign-in, so the table never grows unattended). */
export async function deleteExpiredConsoleSessions(db: Kysely<any>, now: Date): Promise<number> {
  const result = await sql`
    DELETE FROM console_sessions WHERE id_sha256 IN (
      SELECT id_sha256 FROM console_sessions WHERE expires_at <= ${now} LIMIT 1000)`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
