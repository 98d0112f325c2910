import { sql } from 'kysely';

/** A `clips` row as the queries below read it. */
export interface ClipRow {
  id: string;
  stream_id: string;
  message_id: string;
  requester_id: string;
  requester_name: string;
  requested_at: Date;
  offset_ms: string;
  duration_s: number;
  status: string;
  replaced_by: string | null;
}

/** The columns of a ClipRow, for `SELECT ${CLIP_COLUMNS} FROM clips …`. */
export const CLIP_COLUMNS = sql.raw('id, stream_id, message_id, requester_id, requester_name, requested_at, offset_ms, duration_s, status, replaced_by');

/** A clip as the API returns it and the clip.created event carries it: one shape for both readers. */
export function clipView(r: ClipRow) {
  const offsetMs = Number(r.offset_ms);
  return {
    id: Number(r.id),
    streamId: Number(r.stream_id),
    messageId: r.message_id,
    requester: { id: r.requester_id, name: r.requester_name },
    requestedAt: r.requested_at.toISOString(),
    /** Where the command was typed, from the stream's start. */
    offsetMs,
    /** Where the clip starts: it reaches back `durationS` from the command. */
    startMs: Math.max(0, offsetMs - r.duration_s * 1000),
    durationS: r.duration_s,
    status: r.status,
    replacedBy: r.replaced_by === null ? null : Number(r.replaced_by),
  };
}
