/**
 * How rooms are named, in one place: clients use room ids (`r1` for a first-party room, `kick-123` for a
 * Kick channel's room) and each room has one public Pusher channel, `room-<roomId>`.
 */

/** A room id as clients use it: `r1` (first-party) or `kick-123` (a Kick channel). */
export function parseRoomId(roomId: string): { platform: 'kick' | 'onair'; channelId: string } | undefined {
  const kick = /^kick-(\d{1,20})$/.exec(roomId);
  // Kick ids are JSON numbers: one above 2^53 (or with a leading zero) names no real channel, and must not
  // fall through to a first-party room whose Pusher channel would look like a Kick one.
  if (kick) return String(Number(kick[1])) === kick[1] && Number(kick[1]) <= Number.MAX_SAFE_INTEGER ? { platform: 'kick', channelId: kick[1]! } : undefined;
  return /^[A-Za-z0-9_-]{1,64}$/.test(roomId) ? { platform: 'onair', channelId: roomId } : undefined;
}

/** Pusher channel of a room: first-party rooms by id, platform channels as `<platform>-<id>`. */
export function roomChannel(platform: string, channelId: string): string {
  return platform === 'onair' ? `room-${channelId}` : `room-${platform}-${channelId}`;
}
