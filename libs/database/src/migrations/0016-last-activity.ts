import { sql, type Kysely } from 'kysely';

/**
 * A streamer's last activity: the newest of a live sighting (probes), a chat message, a platform webhook
 * (follows, subscriptions, gifts, live status …) and an operator's write through the API. The operators'
 * list sorts by it; each source moves it forward where it already writes (probe-scheduler, chat-writer,
 * chat-bot's events consumer, the summary API's audited writes), never back, so the list reads one indexed
 * column instead of aggregating four tables per request.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE streamers
      ADD COLUMN last_activity_at timestamptz,
      ADD COLUMN last_activity_kind text CHECK (last_activity_kind IN ('live', 'chat', 'webhook', 'operator'))`.execute(db);
  // From what is stored: the prober's last live sighting, each channel's newest chat message (one index
  // probe per channel and partition), the webhooks that left rows (stream starts and ends announced by Kick
  // or LiveKit, Kick's gifts), and the newest audit entry about the streamer. Ties keep the first kind listed.
  await sql`
    UPDATE streamers s SET last_activity_at = a.at, last_activity_kind = a.kind
    FROM (
      SELECT DISTINCT ON (streamer_id) streamer_id, at, kind
      FROM (
        SELECT id AS streamer_id, last_live_at AS at, 'live' AS kind, 1 AS rank FROM streamers WHERE last_live_at IS NOT NULL
        UNION ALL
        SELECT c.streamer_id, m.at, 'chat', 2
        FROM streamer_channels c
        CROSS JOIN LATERAL (
          SELECT max(m.sent_at) AS at FROM chat_messages m WHERE m.platform = c.platform AND m.channel_id = c.platform_user_id
        ) m
        WHERE m.at IS NOT NULL
        UNION ALL
        SELECT c.streamer_id, max(greatest(l.started_at, l.ended_at)), 'webhook', 3
        FROM live_streams l JOIN streamer_channels c ON c.platform = l.platform AND c.platform_user_id = l.channel_id
        WHERE l.source <> 'probe'
        GROUP BY c.streamer_id
        UNION ALL
        SELECT c.streamer_id, max(g.sent_at), 'webhook', 3
        FROM gifts g JOIN streamer_channels c ON c.platform = g.platform AND c.platform_user_id = g.channel_id
        WHERE g.txn_id IS NULL
        GROUP BY c.streamer_id
        UNION ALL
        SELECT target_id::bigint, max(at), 'operator', 4
        FROM audit_log WHERE target_type = 'streamer' AND target_id ~ '^[0-9]{1,18}$'
        GROUP BY target_id
      ) x
      ORDER BY streamer_id, at DESC, rank
    ) a
    WHERE s.id = a.streamer_id`.execute(db);
  await sql`CREATE INDEX streamers_last_activity ON streamers (last_activity_at DESC NULLS LAST, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX streamers_last_activity`.execute(db);
  await sql`ALTER TABLE streamers DROP COLUMN last_activity_at, DROP COLUMN last_activity_kind`.execute(db);
}
