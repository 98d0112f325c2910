import { sql, type Kysely } from 'kysely';

export interface SilentChannel {
  channelId: number;
  broadcasterUserId: number;
  slug: string;
  streamerStatus: string;
  streamerId: number;
  viewerCount: number;
  silentSince: Date | null;
  resubscribedAt: Date | null;
}

/**
 * Kick channels of active streamers that the probes saw live with at least `minViewers` viewers at the
 * latest probe (within `probeFreshMs`) and already live at the start of the silence window, from which
 * no chat message was stored in the window. Ingest does not record webhook arrival per channel; a Kick
 * chat row in `chat_messages` is a delivered `chat.message.sent` webhook, and a live channel with viewers
 * has chat, so its absence is the signal (the viewer floor keeps quiet small streams out).
 */
export async function silentLiveChannels(
  db: Kysely<any>,
  options: { now: Date; silenceMs: number; minViewers: number; probeFreshMs: number },
): Promise<SilentChannel[]> {
  const windowStart = new Date(options.now.getTime() - options.silenceMs);
  const freshFrom = new Date(options.now.getTime() - options.probeFreshMs);
  const liveFrom = new Date(windowStart.getTime() - options.probeFreshMs);
  const { rows } = await sql<{
    id: string;
    platform_user_id: string;
    slug: string;
    status: string;
    streamer_id: string;
    viewer_count: number;
    silent_since: Date | null;
    resubscribed_at: Date | null;
  }>`
    SELECT c.id, c.platform_user_id, c.slug, s.status, c.streamer_id, lp.viewer_count, st.silent_since, st.resubscribed_at
    FROM streamer_channels c
    JOIN streamers s ON s.id = c.streamer_id AND s.status = 'active'
    JOIN LATERAL (
      SELECT p.is_live, p.viewer_count FROM probes p
      WHERE p.channel_id = c.id AND p.ts > ${freshFrom} AND p.ts <= ${options.now}
      ORDER BY p.ts DESC LIMIT 1
    ) lp ON lp.is_live AND lp.viewer_count >= ${options.minViewers}
    LEFT JOIN kick_subscription_state st ON st.channel_id = c.id
    WHERE c.platform = 'kick'
      AND EXISTS (SELECT 1 FROM probes p WHERE p.channel_id = c.id AND p.is_live AND p.ts > ${liveFrom} AND p.ts <= ${windowStart})
      AND NOT EXISTS (
        SELECT 1 FROM chat_messages m
        WHERE m.platform = 'kick' AND m.channel_id = c.platform_user_id AND m.sent_at > ${windowStart} AND m.sent_at <= ${options.now}
      )
    ORDER BY c.id`.execute(db);
  return rows.map((r) => ({
    channelId: Number(r.id),
    broadcasterUserId: Number(r.platform_user_id),
    slug: r.slug,
    streamerStatus: r.status,
    streamerId: Number(r.streamer_id),
    viewerCount: r.viewer_count,
    silentSince: r.silent_since,
    resubscribedAt: r.resubscribed_at,
  }));
}

/** Flags `silent` channels (keeping the first time they were seen silent) and clears every other flag. */
export async function markSilent(db: Kysely<any>, silent: readonly number[], at: Date): Promise<void> {
  await sql`
    INSERT INTO kick_subscription_state (channel_id, wanted, present, checked_at, silent_since)
    SELECT id, 0, 0, ${at}, ${at} FROM unnest(${silent as number[]}::bigint[]) AS id
    ON CONFLICT (channel_id) DO UPDATE SET silent_since = coalesce(kick_subscription_state.silent_since, EXCLUDED.silent_since)`.execute(db);
  await sql`
    UPDATE kick_subscription_state SET silent_since = NULL
    WHERE silent_since IS NOT NULL AND NOT (channel_id = ANY (${silent as number[]}::bigint[]))`.execute(db);
}
