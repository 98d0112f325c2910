import { sql, type Kysely } from 'kysely';

export interface SummaryFilter {
  /** One day; with `from`/`to` too, every bound applies. */
  day?: string;
  /** First and last day, both included (`YYYY-MM-DD`). */
  from?: string;
  to?: string;
  streamerId?: number;
  assignedTo?: number;
  limit: number;
  offset: number;
}

/**
 * Stored daily summaries, filtered by day, day range and/or streamer, newest day first, then by viewer
 * hours; ties break on the channel so offset pages never overlap or skip. `hasMore` comes from reading
 * one row past the page.
 */
export async function listSummaries(db: Kysely<any>, options: SummaryFilter) {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.channel_id, c.streamer_id, c.platform, c.slug,
           d.viewer_hours::float8 AS viewer_hours, d.live_minutes, d.streams, d.peak_viewers,
           d.avg_viewers::float8 AS avg_viewers, d.chat_messages, d.unique_chatters, d.gifts, d.gift_coins::float8 AS gift_coins,
           d.source, d.computed_at
    FROM daily_summaries d
    JOIN streamer_channels c ON c.id = d.channel_id
    WHERE (${options.day ?? null}::date IS NULL OR d.day = ${options.day ?? null}::date)
      AND (${options.from ?? null}::date IS NULL OR d.day >= ${options.from ?? null}::date)
      AND (${options.to ?? null}::date IS NULL OR d.day <= ${options.to ?? null}::date)
      AND (${options.streamerId ?? null}::bigint IS NULL OR c.streamer_id = ${options.streamerId ?? null}::bigint)
      AND (${options.assignedTo ?? null}::bigint IS NULL
           OR c.streamer_id IN (SELECT id FROM streamers WHERE assigned_operator_id = ${options.assignedTo ?? null}::bigint))
    ORDER BY d.day DESC, d.viewer_hours DESC, d.channel_id
    LIMIT ${options.limit + 1} OFFSET ${options.offset}`.execute(db);
  return {
    hasMore: rows.length > options.limit,
    items: rows.slice(0, options.limit).map((r) => ({
      day: r['day'] as string,
      channelId: Number(r['channel_id']),
      streamerId: Number(r['streamer_id']),
      platform: r['platform'] as string,
      slug: r['slug'] as string,
      viewerHours: r['viewer_hours'] as number,
      liveMinutes: r['live_minutes'] as number,
      streams: r['streams'] as number,
      peakViewers: r['peak_viewers'] as number,
      avgViewers: r['avg_viewers'] as number,
      chatMessages: r['chat_messages'] as number,
      uniqueChatters: r['unique_chatters'] as number,
      gifts: r['gifts'] as number,
      // A bigint column read as float8: one channel's coins in a day stay far below 2^53.
      giftCoins: r['gift_coins'] as number,
      source: r['source'] as string,
      computedAt: (r['computed_at'] as Date).toISOString(),
    })),
  };
}
