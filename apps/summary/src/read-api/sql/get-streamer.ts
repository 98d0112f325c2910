import { sql, type Kysely } from 'kysely';
import { lastActivityOf, type LastActivity } from './list-streamers';

/**
 * A streamer with its last activity (as the list sorts by it) and each channel's live status, latest probe
 * and last chat message time. `assignedTo` limits it to one operator's streamers (another's is answered as
 * absent).
 */
export async function getStreamer(db: Kysely<any>, id: number, assignedTo?: number) {
  const { rows: streamers } = await sql<{
    id: number;
    display_name: string;
    status: string;
    created_at: Date;
    notes: string;
    assigned_operator_id: string | null;
    last_activity_at: Date | null;
    last_activity_kind: LastActivity['kind'] | null;
  }>`
    SELECT id, display_name, status, created_at, notes, assigned_operator_id, last_activity_at, last_activity_kind FROM streamers
    WHERE id = ${id} AND (${assignedTo ?? null}::bigint IS NULL OR assigned_operator_id = ${assignedTo ?? null}::bigint)`.execute(db);
  const streamer = streamers[0];
  if (!streamer) return undefined;
  const { rows: channels } = await sql<{
    id: number;
    platform: string;
    platform_user_id: string;
    slug: string;
    live: boolean | null;
    probe_ts: Date | null;
    is_live: boolean | null;
    viewer_count: number | null;
    title: string | null;
    category: string | null;
    last_chat_at: Date | null;
  }>`
    SELECT c.id, c.platform, c.platform_user_id, c.slug, p.last_is_live AS live,
           lp.ts AS probe_ts, lp.is_live, lp.viewer_count, lp.title, lp.category,
           (SELECT max(m.sent_at) FROM chat_messages m WHERE m.platform = c.platform AND m.channel_id = c.platform_user_id) AS last_chat_at
    FROM streamer_channels c
    LEFT JOIN probe_schedule p ON p.channel_id = c.id
    LEFT JOIN LATERAL (SELECT * FROM probes pr WHERE pr.channel_id = c.id ORDER BY pr.ts DESC LIMIT 1) lp ON true
    WHERE c.streamer_id = ${id}
    ORDER BY c.id`.execute(db);
  return {
    id: Number(streamer.id),
    displayName: streamer.display_name,
    status: streamer.status,
    createdAt: streamer.created_at.toISOString(),
    notes: streamer.notes,
    assignedOperatorId: streamer.assigned_operator_id === null ? null : Number(streamer.assigned_operator_id),
    ...lastActivityOf(streamer.last_activity_at, streamer.last_activity_kind),
    channels: channels.map((c) => ({
      id: Number(c.id),
      platform: c.platform,
      platformUserId: c.platform_user_id,
      slug: c.slug,
      live: c.live ?? false,
      latestProbe: c.probe_ts
        ? { ts: c.probe_ts.toISOString(), isLive: c.is_live, viewerCount: c.viewer_count, title: c.title, category: c.category }
        : null,
      lastChatAt: c.last_chat_at ? c.last_chat_at.toISOString() : null,
    })),
  };
}
