import { sql, type Kysely } from 'kysely';

/** A streamer as the audit log records it before and after a write. */
export interface StreamerRecord {
  id: number;
  displayName: string;
  status: string;
  notes: string;
  assignedOperatorId: number | null;
  channels: Array<{ id: number; platform: string; platformUserId: string; slug: string }>;
}

/**
 * The streamer, locked for the rest of the transaction (FOR UPDATE) so a concurrent write waits and its
 * "before" is this write's "after". `assignedTo` limits it to one operator's streamers.
 */
export async function lockStreamer(db: Kysely<any>, id: number, assignedTo?: number): Promise<StreamerRecord | undefined> {
  const { rows } = await sql<{ id: string; display_name: string; status: string; notes: string; assigned_operator_id: string | null }>`
    SELECT id, display_name, status, notes, assigned_operator_id FROM streamers
    WHERE id = ${id} AND (${assignedTo ?? null}::bigint IS NULL OR assigned_operator_id = ${assignedTo ?? null}::bigint)
    FOR UPDATE`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { rows: channels } = await sql<{ id: string; platform: string; platform_user_id: string; slug: string }>`
    SELECT id, platform, platform_user_id, slug FROM streamer_channels WHERE streamer_id = ${id} ORDER BY id`.execute(db);
  return {
    id: Number(row.id),
    displayName: row.display_name,
    status: row.status,
    notes: row.notes,
    assignedOperatorId: row.assigned_operator_id === null ? null : Number(row.assigned_operator_id),
    channels: channels.map((c) => ({ id: Number(c.id), platform: c.platform, platformUserId: c.platform_user_id, slug: c.slug })),
  };
}

/** The streamer owning a platform channel, if any. */
export async function streamerOfChannel(db: Kysely<any>, platform: string, platformUserId: string): Promise<number | undefined> {
  const { rows } = await sql<{ streamer_id: string }>`
    SELECT streamer_id FROM streamer_channels WHERE platform = ${platform} AND platform_user_id = ${platformUserId}`.execute(db);
  return rows[0] ? Number(rows[0].streamer_id) : undefined;
}

/**
 * Serialises onboardings of one platform channel across replicas until the transaction ends, so two
 * concurrent requests for one slug make one streamer.
 */
export async function lockPlatformChannel(db: Kysely<any>, platform: string, platformUserId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(7302, hashtext(${`${platform}:${platformUserId}`}))`.execute(db);
}

/**
 * A new streamer and its channel. Probing needs nothing more: the probe-scheduler's claim seeds a
 * probe_schedule row for every channel with `scheduled = false` (the column's default) of an active streamer.
 */
export async function insertStreamerWithChannel(
  db: Kysely<any>,
  row: { displayName: string; notes: string; assignedOperatorId: number | null; platform: string; platformUserId: string; slug: string; at: Date },
): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO streamers (display_name, status, notes, assigned_operator_id, created_at, updated_at)
    VALUES (${row.displayName}, 'active', ${row.notes}, ${row.assignedOperatorId}, ${row.at}, ${row.at})
    RETURNING id`.execute(db);
  const id = Number(rows[0]!.id);
  await sql`
    INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug, created_at)
    VALUES (${id}, ${row.platform}, ${row.platformUserId}, ${row.slug}, ${row.at})`.execute(db);
  return id;
}

/** Applies the given fields; `slug` renames the streamer's channel with that platform user id. */
export async function updateStreamer(
  db: Kysely<any>,
  id: number,
  change: { status?: string; notes?: string; assignedOperatorId?: number | null; at: Date },
): Promise<void> {
  await sql`
    UPDATE streamers SET
      status = coalesce(${change.status ?? null}::text, status),
      notes = coalesce(${change.notes ?? null}::text, notes),
      assigned_operator_id = CASE WHEN ${change.assignedOperatorId !== undefined} THEN ${change.assignedOperatorId ?? null}::bigint ELSE assigned_operator_id END,
      updated_at = ${change.at}
    WHERE id = ${id}`.execute(db);
}

export async function renameChannel(db: Kysely<any>, platform: string, platformUserId: string, slug: string): Promise<void> {
  await sql`UPDATE streamer_channels SET slug = ${slug} WHERE platform = ${platform} AND platform_user_id = ${platformUserId} AND slug <> ${slug}`.execute(db);
}
