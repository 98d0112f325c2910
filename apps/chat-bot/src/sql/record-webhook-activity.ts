import { sql, type Kysely } from 'kysely';

/** The newest platform webhook of one channel in a batch of events. */
export interface ChannelWebhook {
  platform: string;
  channelId: string;
  /** When ingest received it (the event's `receivedAt`: ingest's clock, checked against Kick's signed timestamp). */
  at: Date;
}

/**
 * Moves the last activity (migration 0016) of the streamers owning these channels forward to their newest
 * webhook, in one statement per batch of events; channels are matched to `streamer_channels` by (platform,
 * platform_user_id). The same rule as chat (apps/chat-writer/src/sql/record-chat-activity.ts): forward only,
 * and a row is rewritten only when its stored activity is more than `throttleMs` older, so a burst of
 * follows or gifts rewrites the streamer row at most once per throttle; a row another transaction holds is
 * skipped rather than waited for, locking in id order.
 */
export async function recordWebhookActivity(db: Kysely<any>, channels: readonly ChannelWebhook[], throttleMs: number): Promise<void> {
  if (channels.length === 0) return;
  await sql`
    WITH due AS (
      SELECT s.id, n.at
      FROM streamers s
      JOIN (
        SELECT c.streamer_id, max(v.at) AS at
        FROM unnest(${channels.map((c) => c.platform)}::text[], ${channels.map((c) => c.channelId)}::text[],
                    ${channels.map((c) => c.at)}::timestamptz[]) AS v (platform, channel_id, at)
        JOIN streamer_channels c ON c.platform = v.platform AND c.platform_user_id = v.channel_id
        GROUP BY c.streamer_id
      ) n ON n.streamer_id = s.id
      WHERE s.last_activity_at IS NULL OR s.last_activity_at < n.at - make_interval(secs => ${throttleMs / 1000})
      ORDER BY s.id
      FOR UPDATE OF s SKIP LOCKED
    )
    UPDATE streamers s SET last_activity_at = due.at, last_activity_kind = 'webhook'
    FROM due
    WHERE s.id = due.id`.execute(db);
}
