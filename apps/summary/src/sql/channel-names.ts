import { sql, type Kysely } from 'kysely';

/** What to call each channel in a message: the streamer's display name and the channel slug. */
export async function channelNames(db: Kysely<any>, channelIds: readonly number[]): Promise<Map<number, string>> {
  if (channelIds.length === 0) return new Map();
  const { rows } = await sql<{ id: number; name: string }>`
    SELECT c.id, s.display_name || ' (' || c.platform || '/' || c.slug || ')' AS name
    FROM streamer_channels c JOIN streamers s ON s.id = c.streamer_id
    WHERE c.id = ANY(${channelIds}::bigint[])`.execute(db);
  return new Map(rows.map((r) => [Number(r.id), r.name]));
}
