import { sql, type Kysely } from 'kysely';

/** How many drift rows each channel carries in the answer, newest first. */
const DRIFT_LIMIT = 10;

export interface ChannelSubscriptionHealth {
  channelId: number;
  platform: string;
  slug: string;
  /** Subscriptions the channel should have and Kick listed at the last check; null before the first check. */
  wanted: number | null;
  present: number | null;
  checkedAt: string | null;
  /** Set while the watchdog sees the channel live with viewers and no webhook arriving. */
  silentSince: string | null;
  resubscribedAt: string | null;
  resubscribeCount: number;
  /** Checked at least once, every wanted subscription present, and webhooks arriving. */
  healthy: boolean;
  drift: Array<{ at: string; source: string; missing: string[]; strays: string[]; created: number; deleted: number }>;
}

/**
 * Webhook subscription health of a streamer's Kick channels (what the reconciler and the watchdog last
 * recorded) with each channel's latest drift, in one statement; the drift rows come from
 * kick_subscription_drift_channel (channel_id, at DESC). `undefined` when the streamer does not exist or
 * is outside `assignedTo`.
 */
export async function subscriptionHealth(
  db: Kysely<any>,
  options: { streamerId: number; assignedTo?: number },
): Promise<ChannelSubscriptionHealth[] | undefined> {
  const assignedTo = options.assignedTo ?? null;
  const { rows } = await sql<{
    channel_id: string | null;
    platform: string;
    slug: string;
    wanted: number | null;
    present: number | null;
    checked_at: Date | null;
    silent_since: Date | null;
    resubscribed_at: Date | null;
    resubscribe_count: number | null;
    drift: Array<{ at: string; source: string; missing: string[]; strays: string[]; created: number; deleted: number }>;
  }>`
    SELECT c.id AS channel_id, c.platform, c.slug, st.wanted, st.present, st.checked_at, st.silent_since,
           st.resubscribed_at, st.resubscribe_count,
           COALESCE((SELECT json_agg(json_build_object('at', d.at, 'source', d.source, 'missing', d.missing, 'strays', d.strays,
                                                       'created', d.created, 'deleted', d.deleted) ORDER BY d.at DESC, d.id DESC)
                     FROM (SELECT * FROM kick_subscription_drift x WHERE x.channel_id = c.id
                           ORDER BY x.at DESC, x.id DESC LIMIT ${DRIFT_LIMIT}) d), '[]') AS drift
    FROM streamers s
    LEFT JOIN streamer_channels c ON c.streamer_id = s.id AND c.platform = 'kick'
    LEFT JOIN kick_subscription_state st ON st.channel_id = c.id
    WHERE s.id = ${options.streamerId}
      AND (${assignedTo}::bigint IS NULL OR s.assigned_operator_id = ${assignedTo}::bigint)
    ORDER BY c.id`.execute(db);
  if (rows.length === 0) return undefined;
  return rows
    .filter((r) => r.channel_id !== null)
    .map((r) => ({
      channelId: Number(r.channel_id),
      platform: r.platform,
      slug: r.slug,
      wanted: r.wanted,
      present: r.present,
      checkedAt: r.checked_at?.toISOString() ?? null,
      silentSince: r.silent_since?.toISOString() ?? null,
      resubscribedAt: r.resubscribed_at?.toISOString() ?? null,
      resubscribeCount: r.resubscribe_count ?? 0,
      healthy: r.wanted !== null && r.present === r.wanted && r.silent_since === null,
      drift: r.drift.map((d) => ({ ...d, at: new Date(d.at).toISOString() })),
    }));
}
