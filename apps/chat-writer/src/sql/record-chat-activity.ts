import { sql, type Kysely } from 'kysely';

/** The newest message of one channel in a batch. */
export interface ChannelChat {
  platform: string;
  channelId: string;
  /** The newest message's time: its sent time, but never later than when ingest received it. */
  at: Date;
}

/**
 * Moves the last activity (migration 0016) of the streamers owning these channels forward to their newest
 * message, in one statement per batch. Channels are matched to `streamer_channels` by (platform,
 * platform_user_id): Kick's broadcaster id, or a first-party room id; others match nothing.
 *
 * The throttle: a streamer row is rewritten only when its stored activity is more than `throttleMs` older
 * than the batch's newest message. A channel at 500 msg/s is seen in every batch (a few per second); without
 * it each batch would rewrite the same streamer row (a dead tuple, an index entry and a row lock every few
 * milliseconds), with it the row changes at most once per `throttleMs` of chat and the list is that much
 * behind at worst. Rows another transaction holds (the prober's, an operator's write) are skipped instead of
 * waited for (`SKIP LOCKED`): the chat batch never queues behind the streamer row, a later batch of the
 * channel moves it (the holder is recording activity of its own at about the same time), and locking in id order keeps two concurrent batches from deadlocking.
 * Returns, per channel owned by a streamer, the streamer's last activity after the statement (the caller
 * remembers it to skip the statement while its channels stay within the throttle); channels nobody owns are
 * absent.
 */
export async function recordChatActivity(
  db: Kysely<any>,
  channels: readonly ChannelChat[],
  throttleMs: number,
): Promise<Array<{ platform: string; channelId: string; lastActivityAt: Date | null }>> {
  if (channels.length === 0) return [];
  const { rows } = await sql<{ platform: string; channel_id: string; last_activity_at: Date | null }>`
    WITH v AS (
      SELECT v.platform, v.channel_id, v.at, c.streamer_id
      FROM unnest(${channels.map((c) => c.platform)}::text[], ${channels.map((c) => c.channelId)}::text[],
                  ${channels.map((c) => c.at)}::timestamptz[]) AS v (platform, channel_id, at)
      JOIN streamer_channels c ON c.platform = v.platform AND c.platform_user_id = v.channel_id
    ), due AS (
      SELECT s.id, n.at
      FROM streamers s JOIN (SELECT streamer_id, max(at) AS at FROM v GROUP BY streamer_id) n ON n.streamer_id = s.id
      WHERE s.last_activity_at IS NULL OR s.last_activity_at < n.at - make_interval(secs => ${throttleMs / 1000})
      ORDER BY s.id
      FOR UPDATE OF s SKIP LOCKED
    ), moved AS (
      UPDATE streamers s SET last_activity_at = due.at, last_activity_kind = 'chat'
      FROM due
      WHERE s.id = due.id
      RETURNING s.id, s.last_activity_at
    )
    SELECT v.platform, v.channel_id, COALESCE(moved.last_activity_at, s.last_activity_at) AS last_activity_at
    FROM v JOIN streamers s ON s.id = v.streamer_id LEFT JOIN moved ON moved.id = v.streamer_id`.execute(db);
  return rows.map((r) => ({ platform: r.platform, channelId: r.channel_id, lastActivityAt: r.last_activity_at }));
}
