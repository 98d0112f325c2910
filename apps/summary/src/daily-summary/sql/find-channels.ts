import { sql, type Kysely } from 'kysely';

export interface PlatformChannelKey {
  platform: string;
  platformUserId: string;
}

/**
 * `streamer_channels.id` for each (platform, platform user id) that names a channel we know, in one
 * statement whatever the number of keys (two array parameters zipped by `unnest`). Keys with no channel
 * are absent from the answer. Map key: `platform` + NUL + `platformUserId`.
 */
export async function findChannels(db: Kysely<any>, keys: readonly PlatformChannelKey[]): Promise<Map<string, number>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<{ id: number | string; platform: string; platform_user_id: string }>`
    SELECT c.id, c.platform, c.platform_user_id
    FROM streamer_channels c
    JOIN unnest(${keys.map((k) => k.platform)}::text[], ${keys.map((k) => k.platformUserId)}::text[])
      AS k (platform, platform_user_id)
      ON k.platform = c.platform AND k.platform_user_id = c.platform_user_id`.execute(db);
  return new Map(rows.map((r) => [channelKey(r.platform, r.platform_user_id), Number(r.id)]));
}

export function channelKey(platform: string, platformUserId: string): string {
  return `${platform}\u0000${platformUserId}`;
}
