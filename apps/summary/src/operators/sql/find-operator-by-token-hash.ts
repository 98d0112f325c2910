import { sql, type Kysely } from 'kysely';
import type { OperatorRole } from '../principal';

/** The enabled operator holding the token whose SHA-256 is `hash` (a unique index finds it). */
export async function findOperatorByTokenHash(db: Kysely<any>, hash: Buffer): Promise<{ id: number; name: string; role: OperatorRole } | undefined> {
  const { rows } = await sql<{ id: string; name: string; role: OperatorRole }>`
    SELECT id, name, role FROM operators WHERE token_sha256 = ${hash} AND disabled_at IS NULL`.execute(db);
  const row = rows[0];
  return row ? { id: Number(row.id), name: row.name, role: row.role } : undefined;
}
