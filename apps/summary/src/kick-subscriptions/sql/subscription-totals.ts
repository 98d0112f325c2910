import { sql, type Kysely } from 'kysely';

/** Sums over the last recorded state of every channel. */
export async function subscriptionTotals(db: Kysely<any>): Promise<{ wanted: number; present: number; silent: number }> {
  const { rows } = await sql<{ wanted: number; present: number; silent: number }>`
    SELECT coalesce(sum(wanted), 0)::int AS wanted, coalesce(sum(present), 0)::int AS present,
           count(*) FILTER (WHERE silent_since IS NOT NULL)::int AS silent
    FROM kick_subscription_state`.execute(db);
  return rows[0] ?? { wanted: 0, present: 0, silent: 0 };
}
