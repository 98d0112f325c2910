import { sql, type Kysely } from 'kysely';

/** A channel's clip rules (table `bot_settings`); a channel without a row has `DEFAULT_SETTINGS`. */
export interface BotSettings {
  enabled: boolean;
  mode: 'everyone' | 'streamer_only';
  /** User ids or usernames (case-insensitive) who may clip in streamer-only mode. */
  approvedUsers: string[];
  /** Seconds after a clip in which the same user gets no new one (a longer request replaces it). */
  cooldownS: number;
  minClipS: number;
  maxClipS: number;
  /** Whether the bot answers in chat. */
  replies: boolean;
}

export const DEFAULT_SETTINGS: BotSettings = {
  enabled: true,
  mode: 'everyone',
  approvedUsers: [],
  cooldownS: 60,
  minClipS: 5,
  maxClipS: 120,
  replies: true,
};

/** Length of a clip asked for without one (`!clip`), within the channel's bounds. */
export const DEFAULT_CLIP_S = 30;

interface SettingsRow {
  enabled: boolean;
  mode: 'everyone' | 'streamer_only';
  approved_users: string[];
  cooldown_s: number;
  min_clip_s: number;
  max_clip_s: number;
  replies: boolean;
}

const fromRow = (r: SettingsRow): BotSettings => ({
  enabled: r.enabled,
  mode: r.mode,
  approvedUsers: r.approved_users,
  cooldownS: r.cooldown_s,
  minClipS: r.min_clip_s,
  maxClipS: r.max_clip_s,
  replies: r.replies,
});

export async function readSettings(db: Kysely<any>, platform: string, channelId: string): Promise<BotSettings> {
  const { rows } = await sql<SettingsRow>`
    SELECT enabled, mode, approved_users, cooldown_s, min_clip_s, max_clip_s, replies
    FROM bot_settings WHERE platform = ${platform} AND channel_id = ${channelId}`.execute(db);
  return rows[0] ? fromRow(rows[0]) : DEFAULT_SETTINGS;
}

/** Stores a channel's whole settings (PUT semantics) and returns them. */
export async function writeSettings(db: Kysely<any>, platform: string, channelId: string, s: BotSettings): Promise<BotSettings> {
  const { rows } = await sql<SettingsRow>`
    INSERT INTO bot_settings (platform, channel_id, enabled, mode, approved_users, cooldown_s, min_clip_s, max_clip_s, replies, updated_at)
    VALUES (${platform}, ${channelId}, ${s.enabled}, ${s.mode}, ${s.approvedUsers}::text[], ${s.cooldownS}, ${s.minClipS}, ${s.maxClipS}, ${s.replies}, now())
    ON CONFLICT (platform, channel_id) DO UPDATE SET
      enabled = EXCLUDED.enabled, mode = EXCLUDED.mode, approved_users = EXCLUDED.approved_users,
      cooldown_s = EXCLUDED.cooldown_s, min_clip_s = EXCLUDED.min_clip_s, max_clip_s = EXCLUDED.max_clip_s,
      replies = EXCLUDED.replies, updated_at = now()
    RETURNING enabled, mode, approved_users, cooldown_s, min_clip_s, max_clip_s, replies`.execute(db);
  return fromRow(rows[0]!);
}
