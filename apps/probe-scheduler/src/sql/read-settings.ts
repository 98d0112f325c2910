import { sql, type Kysely } from 'kysely';

export interface ProbeSettings {
  /** Minutes between probes of a live channel; also the factor in viewer-hours. */
  liveProbeMinutes: number;
  /** Minutes between probes of an offline channel. */
  offlineProbeMinutes: number;
}

/** The settings row: the single source of the probe cadence. */
export async function readSettings(db: Kysely<any>): Promise<ProbeSettings> {
  const { rows } = await sql<{ live_probe_minutes: number; offline_probe_minutes: number }>`
    SELECT live_probe_minutes, offline_probe_minutes FROM settings`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('settings row is missing (migration 0002 inserts it)');
  return { liveProbeMinutes: row.live_probe_minutes, offlineProbeMinutes: row.offline_probe_minutes };
}
