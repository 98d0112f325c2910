import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { parseRoomId, type ChatMessage, type Topology } from '@onair/contracts';
import { HttpError } from '@onair/service-kit';
import { SessionTokenError, verifySessionToken, type SessionKeys } from '@onair/session';
import type { Publish } from '../publisher';
import type { RateLimiter } from '@onair/service-kit';
import { parseJsonBody, rawBody } from '../json-body';

export interface RoomMessagesOptions {
  topology: Topology;
  publish: Publish;
  session: SessionKeys;
  rateLimiter: RateLimiter;
  now: () => number;
}

const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CONTENT = 500;
/** C0/C1 controls other than tab and newline: invisible, and used to break renderers and logs. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** `POST /v1/rooms/:roomId/messages`: first-party chat from a signed-in user. */
export function registerRoomMessages(app: FastifyInstance, options: RoomMessagesOptions): void {
  app.post<{ Params: { roomId: string } }>('/v1/rooms/:roomId/messages', async (request, reply) => {
    const user = authenticate(request.headers.authorization, options);
    const { roomId } = request.params;
    const room = parseRoomId(roomId);
    if (!room) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ -');
    // `kick-123` is Kick channel 123's room (same Pusher channel): first-party chat may not post there.
    if (room.platform !== 'onair') {
      throw new HttpError(400, 'invalid_room_id', `Room id ${roomId} names a platform channel's room; first-party rooms cannot use it`);
    }

    const body = parseJsonBody(rawBody(request.body));
    const unknown = Object.keys(body).filter((k) => k !== 'messageId' && k !== 'content');
    if (unknown.length > 0) throw new HttpError(422, 'validation_failed', `Unknown field ${unknown[0]}`);
    if (typeof body['content'] !== 'string') throw new HttpError(422, 'validation_failed', 'content must be a string');
    const content = body['content'].trim();
    if (content.length === 0) throw new HttpError(422, 'validation_failed', 'content is empty');
    if ([...content].length > MAX_CONTENT) {
      throw new HttpError(422, 'validation_failed', `content is longer than ${MAX_CONTENT} characters`);
    }
    if (CONTROL.test(content)) throw new HttpError(422, 'validation_failed', 'content has control characters');
    const clientId = body['messageId'];
    if (clientId !== undefined && (typeof clientId !== 'string' || !CLIENT_MESSAGE_ID.test(clientId))) {
      throw new HttpError(422, 'validation_failed', 'messageId must be 1-64 of A-Z a-z 0-9 _ -');
    }

    const wait = options.rateLimiter.take(user.id, options.now());
    if (wait > 0) {
      throw new HttpError(429, 'rate_limited', 'Too many messages; slow down', { headers: { 'retry-after': String(wait) } });
    }

    // A client id is scoped to its sender, so one user cannot suppress another's message by reusing its id.
    const messageId = clientId ? `${user.id}:${clientId}` : randomUUID();
    const at = new Date(options.now()).toISOString();
    const message: ChatMessage = {
      platform: 'onair',
      messageId,
      channelId: roomId,
      senderId: user.id,
      senderUsername: user.name,
      content,
      sentAt: at,
      receivedAt: at,
    };
    const { duplicate } = await options.publish(options.topology.chat.subject('onair', roomId), message, `onair:${messageId}`);
    return reply.code(202).send({ accepted: true, duplicate, messageId });
  });
}

function authenticate(header: string | undefined, options: RoomMessagesOptions) {
  const match = header?.match(/^Bearer ([^\s]+)$/);
  if (!match) throw new HttpError(401, 'unauthorized', 'A Bearer session token is required');
  try {
    return verifySessionToken(match[1]!, options.session, options.now());
  } catch (error) {
    if (error instanceof SessionTokenError) throw new HttpError(401, 'unauthorized', error.message);
    throw error;
  }
}
