import type { FastifyInstance } from 'fastify';
import { parseRoomId, uuidV7, uuidV7Time, type ChatMessage, type SenderRole } from '@onair/contracts';
import { authenticateSession, HttpError } from '@onair/service-kit';
import type { SessionKeys, SessionUser } from '@onair/session';
import type { Publisher } from '../publisher';
import type { RateLimiter } from '@onair/service-kit';
import { parseJsonBody, rawBody } from '../json-body';

export interface RoomMessagesOptions {
  publish: Publisher;
  /**
   * Largest accepted difference between a message id's time (UUIDv7) and now, in ms. Every retry ingest
   * accepts therefore comes within twice this of the first copy, inside JetStream's duplicate window.
   */
  maxSkewMs: number;
  session: SessionKeys;
  rateLimiter: RateLimiter;
  now: () => number;
}

const MAX_CONTENT = 500;
/** C0/C1 controls other than tab and newline: invisible, and used to break renderers and logs. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** `POST /v1/rooms/:roomId/messages`: first-party chat from a signed-in user. */
export function registerRoomMessages(app: FastifyInstance, options: RoomMessagesOptions): void {
  app.post<{ Params: { roomId: string } }>('/v1/rooms/:roomId/messages', async (request, reply) => {
    const user = authenticateSession(request.headers.authorization, options.session, options.now());
    const { roomId } = request.params;
    const room = parseRoomId(roomId);
    if (!room) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ -');
    // `kick-123` is Kick channel 123's room (same Pusher channel): first-party chat may not post there.
    if (room.platform !== 'onair') {
      throw new HttpError(400, 'invalid_room_id', `Room id ${roomId} names a platform channel's room; first-party rooms cannot use it`);
    }

    const body = parseJsonBody(rawBody(request.body));
    const unknown = Object.keys(body).filter((k) => k !== 'messageId' && k !== 'content');
    if (unknown.length > 0) throw new HttpError(422, 'validation_failed', 'Unknown field: a room message has only messageId and content');
    if (typeof body['content'] !== 'string') throw new HttpError(422, 'validation_failed', 'content must be a string');
    const content = body['content'].trim();
    if (content.length === 0) throw new HttpError(422, 'validation_failed', 'content is empty');
    if ([...content].length > MAX_CONTENT) {
      throw new HttpError(422, 'validation_failed', `content is longer than ${MAX_CONTENT} characters`);
    }
    if (CONTROL.test(content)) throw new HttpError(422, 'validation_failed', 'content has control characters');
    const clientId = body['messageId'];
    const now = options.now();
    let sentAtMs = now;
    if (clientId !== undefined) {
      const idTime = typeof clientId === 'string' ? uuidV7Time(clientId) : undefined;
      if (idTime === undefined) throw new HttpError(422, 'validation_failed', 'messageId must be a lower-case UUIDv7 (RFC 9562)');
      // The id's own time is the message's: a retry an hour later has the same row key as the first copy.
      // An id older than the bound cannot be told apart from a copy JetStream has forgotten, so it is refused
      // (nothing is published); the client makes a new id to post the text again.
      if (now - idTime > options.maxSkewMs) {
        throw new HttpError(422, 'stale_message_id', 'messageId was made too long ago: it is stored already or too old to post; post with a new id');
      }
      if (idTime - now > options.maxSkewMs) {
        throw new HttpError(422, 'future_message_id', "messageId's time is ahead of the server clock; make ids from the server's time (the Date header)");
      }
      sentAtMs = idTime;
    }

    const wait = options.rateLimiter.take(user.id, now);
    if (wait > 0) {
      throw new HttpError(429, 'rate_limited', 'Too many messages; slow down', { headers: { 'retry-after': String(wait) } });
    }

    // A client id is scoped to its sender, so one user cannot suppress another's message by reusing its id.
    // Without one, each request is a new message (nothing to recognise a retry by).
    const messageId = `${user.id}:${typeof clientId === 'string' ? clientId : uuidV7(now)}`;
    const message: ChatMessage = {
      platform: 'onair',
      messageId,
      channelId: roomId,
      senderId: user.id,
      senderUsername: user.name,
      content,
      sentAt: new Date(sentAtMs).toISOString(),
      receivedAt: new Date(now).toISOString(),
      ...senderRoles(user, roomId),
    };
    const { duplicate } = await options.publish.chat(message, `onair:${messageId}`);
    return reply.code(202).send({ accepted: true, duplicate, messageId });
  });
}

/** What the session says the sender is in this room: its owner (the room's broadcaster) or a moderator. */
function senderRoles(user: SessionUser, roomId: string): Pick<ChatMessage, 'senderRoles'> {
  const roles: SenderRole[] = [];
  if (user.ownsRooms.includes(roomId)) roles.push('broadcaster');
  if (user.moderatesRooms.includes(roomId)) roles.push('moderator');
  return roles.length > 0 ? { senderRoles: roles } : {};
}
