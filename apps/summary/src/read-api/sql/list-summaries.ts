import { sql, type Kysely } from 'kysely';

/** Stored daily summaries, filtered by day and/or streamer, newest day first. */
export async function listSummaries(db: Kysely<any>, options: { day?: string; streamerId?: number; assignedTo?: number; limit: number }) {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.channel_id, c.streamer_id, c.platform, c.slug,
           d.viewer_hours::float8 AS viewer_hours, d.live_minutes, d.streams, d.peak_viewers,
           d.avg_viewers::float8 AS avg_viewers, d.chat_messages, d.unique_chatters, d.source, d.computed_at
    FROM daily_summaries d
    JOIN streamer_channels c ON c.id = d.channel_id
    WHERE (${options.day ?? null}::date IS NULL OR d.day = ${options.day ?? null}::date)
      AND (${options.streamerId ?? null}::bigint IS NULL OR c.streamer_id = ${options.streamerId ?? null}::bigint)
      AND (${options.assignedTo ?? null}::bigint IS NULL
           OR c.streamer_id IN (SELECT id FROM streamers WHERE assigned_operator_id = ${options.assignedTo ?? null}::bigint))
    ORDER BY d.day DESC, d.viewer_hours DESC, d.channel_id
    LIMIT ${options.limit}`.execute(db);
  return rows.map((r) => ({
    day: r['day'],
    channelId: Number(r['channel_id']),
    streamerId: Number(r['streamer_id']),
    platform: r['platform'],
    slug: r['slug'],
    viewerHours: r['viewer_hours'],
    liveMinutes: r['live_minutes'],
    streams: r['streams'],
    peakViewers: r['peak_viewers'],
    avgViewers: r['avg_viewers'],
    chatMessages: r['chat_messages'],
    uniqueChatters: r['unique_chatters'],
    source: r['source'],
    computedAt: (r['computed_at'] as Date).toISOString(),
  }));
}
