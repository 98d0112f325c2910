import { sql, type Kysely } from 'kysely';

/**
 * Minutes between probes of a live channel, from the single `settings` row: each live probe stands for
 * that many minutes, so it is the factor in viewer hours and live minutes on both the Postgres and the
 * ClickHouse path (never assume 1).
 */
export async function readLiveProbeMinutes(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ live_probe_minutes: number }>`SELECT live_probe_minutes FROM settings`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('settings row is missing (migration 0002 inserts it)');
  return row.live_probe_minutes;
}
