import { sql, type Kysely } from 'kysely';
import { toOperator, type OperatorRow, type RawOperator } from './insert-operator';

/** Every operator with how many streamers are assigned to them; never their token hash. */
export async function listOperators(db: Kysely<any>): Promise<Array<OperatorRow & { streamers: number }>> {
  const { rows } = await sql<RawOperator & { streamers: number }>`
    SELECT o.id, o.name, o.role, o.created_at, o.created_by, o.disabled_at,
           (SELECT count(*)::int FROM streamers s WHERE s.assigned_operator_id = o.id) AS streamers
    FROM operators o
    ORDER BY o.id`.execute(db);
  return rows.map((r) => ({ ...toOperator(r), streamers: r.streamers }));
}

/** Whether an operator with this id exists (and is enabled): what an assignment may name. */
export async function operatorExists(db: Kysely<any>, id: number): Promise<boolean> {
  const { rows } = await sql`SELECT 1 FROM operators WHERE id = ${id} AND disabled_at IS NULL`.execute(db);
  return rows.length > 0;
}
