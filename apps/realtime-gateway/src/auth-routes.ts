import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Pusher from 'pusher';
import { parseRoomId } from '@onair/contracts';
import { HttpError, type RateLimiter } from '@onair/service-kit';
import { SessionTokenError, verifySessionToken, type SessionKeys, type SessionUser } from '@onair/session';
import { joinToken, type LiveKitConfig } from './livekit';

export interface AuthRoutesOptions {
  pusher: Pick<Pusher, 'authorizeChannel' | 'authenticateUser'>;
  session: SessionKeys;
  /**
   * Shared by the auth endpoints: keyed by the session's user id, or by the client address (`request.ip`,
   * which TRUST_PROXY makes the client's behind a proxy) when there is no valid session.
   */
  rateLimiter: RateLimiter;
  /** Absent: the join endpoint answers 503. */
  livekit?: LiveKitConfig;
  now?: () => number;
}

const SOCKET_ID = /^\d{1,20}\.\d{1,20}$/;

/**
 * Channel auth for pusher-js (`POST /pusher/auth`, `POST /pusher/user-auth`) and LiveKit joins
 * (`POST /v1/rooms/:roomId/join`). The user is the session JWT's; the Pusher secret only signs here.
 * Without a valid session the answer is 403, as pusher-js expects from an auth endpoint.
 */
export function registerAuthRoutes(app: FastifyInstance, options: AuthRoutesOptions): void {
  const now = options.now ?? Date.now;
  // pusher-js posts its auth requests form-encoded.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const limit = (key: string) => {
    const wait = options.rateLimiter.take(key, now());
    if (wait > 0) throw new HttpError(429, 'rate_limited', 'Too many auth requests', { headers: { 'retry-after': String(wait) } });
  };
  /**
   * The signed-in user, charged one request to their own bucket: users behind one proxy or NAT do not
   * share a limit. Without a valid session the client address pays, so forged tokens are limited too.
   */
  const user = (request: FastifyRequest): SessionUser => {
    const match = request.headers.authorization?.match(/^Bearer ([^\s]+)$/);
    let refusal: string;
    if (match) {
      try {
        const who = verifySessionToken(match[1]!, options.session, now());
        limit(`user:${who.id}`);
        return who;
      } catch (error) {
        if (!(error instanceof SessionTokenError)) throw error;
        refusal = error.message;
      }
    } else {
      refusal = 'A Bearer session token is required';
    }
    limit(`ip:${request.ip}`);
    throw new HttpError(403, 'forbidden', refusal);
  };
  const field = (request: FastifyRequest, name: string): string => {
    const value = (request.body as Record<string, unknown> | undefined)?.[name];
    if (typeof value !== 'string' || value.length === 0) throw new HttpError(400, 'missing_field', `${name} is required`);
    return value;
  };

  app.post('/pusher/auth', async (request) => {
    const who = user(request);
    const socketId = field(request, 'socket_id');
    const channel = field(request, 'channel_name');
    if (!SOCKET_ID.test(socketId)) throw new HttpError(400, 'invalid_socket_id', 'socket_id is not a Pusher socket id');
    const presenceRoom = /^presence-room-([A-Za-z0-9_-]{1,64})$/.exec(channel);
    if (presenceRoom) {
      return options.pusher.authorizeChannel(socketId, channel, { user_id: who.id, user_info: { name: who.name } });
    }
    // A user's private channel is theirs alone (notifications, moderation notices).
    if (channel === `private-user-${who.id}`) return options.pusher.authorizeChannel(socketId, channel);
    throw new HttpError(403, 'forbidden', 'Not allowed on this channel');
  });

  app.post('/pusher/user-auth', async (request) => {
    const who = user(request);
    const socketId = field(request, 'socket_id');
    if (!SOCKET_ID.test(socketId)) throw new HttpError(400, 'invalid_socket_id', 'socket_id is not a Pusher socket id');
    return options.pusher.authenticateUser(socketId, { id: who.id, user_info: { name: who.name } });
  });

  app.post<{ Params: { roomId: string } }>('/v1/rooms/:roomId/join', async (request) => {
    const who = user(request);
    const room = parseRoomId(request.params.roomId);
    if (!room) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ -');
    // `kick-<id>` names a Kick channel's room: its media lives on Kick, and no user of ours owns it.
    if (room.platform !== 'onair') throw new HttpError(403, 'platform_room', 'Rooms of platform channels have no media room to join');
    if (!options.livekit) throw new HttpError(503, 'livekit_not_configured', 'Media rooms are not configured');
    return joinToken(options.livekit, who, request.params.roomId);
  });
}
