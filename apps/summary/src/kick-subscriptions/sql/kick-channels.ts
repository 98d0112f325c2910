import { sql, type Kysely } from 'kysely';

export interface KickChannelRow {
  channelId: number;
  broadcasterUserId: number;
  slug: string;
  streamerId: number;
  streamerStatus: string;
}

/** Kick channels to reconcile: one (`channelId`), or every one, in id order. Archived ones too: they want none. */
export async function kickChannels(db: Kysely<any>, channelId?: number): Promise<KickChannelRow[]> {
  const { rows } = await sql<{ id: string; platform_user_id: string; slug: string; streamer_id: string; status: string }>`
    SELECT c.id, c.platform_user_id, c.slug, c.streamer_id, s.status
    FROM streamer_channels c JOIN streamers s ON s.id = c.streamer_id
    WHERE c.platform = 'kick' AND (${channelId ?? null}::bigint IS NULL OR c.id = ${channelId ?? null}::bigint)
    ORDER BY c.id`.execute(db);
  return rows.map((r) => ({
    channelId: Number(r.id),
    broadcasterUserId: Number(r.platform_user_id),
    slug: r.slug,
    streamerId: Number(r.streamer_id),
    streamerStatus: r.status,
  }));
}
