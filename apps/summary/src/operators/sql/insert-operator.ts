import { sql, type Kysely } from 'kysely';
import type { OperatorRole } from '../principal';

export interface OperatorRow {
  id: number;
  name: string;
  role: OperatorRole;
  createdAt: string;
  createdBy: string;
  disabledAt: string | null;
}

/** A new operator, or undefined when the name is taken. */
export async function insertOperator(
  db: Kysely<any>,
  operator: { name: string; role: OperatorRole; tokenSha256: Buffer; createdAt: Date; createdBy: string },
): Promise<OperatorRow | undefined> {
  const { rows } = await sql<RawOperator>`
    INSERT INTO operators (name, role, token_sha256, created_at, created_by)
    VALUES (${operator.name}, ${operator.role}, ${operator.tokenSha256}, ${operator.createdAt}, ${operator.createdBy})
    ON CONFLICT (name) DO NOTHING
    RETURNING id, name, role, created_at, created_by, disabled_at`.execute(db);
  return rows[0] ? toOperator(rows[0]) : undefined;
}

export interface RawOperator {
  id: string;
  name: string;
  role: OperatorRole;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

export function toOperator(r: RawOperator): OperatorRow {
  return {
    id: Number(r.id),
    name: r.name,
    role: r.role,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    disabledAt: r.disabled_at?.toISOString() ?? null,
  };
}
