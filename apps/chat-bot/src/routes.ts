import { timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { parseRoomId } from '@onair/contracts';
import { authenticateSession, HttpError, MAX_SAFE_ID } from '@onair/service-kit';
import type { SessionKeys } from '@onair/session';
import { CLIP_COLUMNS, clipView, type ClipRow } from './clip-view';
import { readSettings, writeSettings, type BotSettings } from './settings';

export interface RoutesOptions {
  db: Kysely<any>;
  adminToken: string;
  session: SessionKeys;
  now: () => number;
}

/** A channel as rooms name it: `kick-123` (Kick channel 123) or a first-party room id. */
const Params = Type.Object({ channelId: Type.String({ minLength: 1, maxLength: 64 }) });
const Settings = Type.Object(
  {
    enabled: Type.Boolean(),
    mode: Type.Union([Type.Literal('everyone'), Type.Literal('streamer_only')]),
    approvedUsers: Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }), { maxItems: 500, uniqueItems: true }),
    cooldownS: Type.Integer({ minimum: 0, maximum: 86_400 }),
    minClipS: Type.Integer({ minimum: 1, maximum: 600 }),
    maxClipS: Type.Integer({ minimum: 1, maximum: 600 }),
    replies: Type.Boolean(),
  },
  { additionalProperties: false },
);
const ClipsQuery = Type.Object(
  {
    stream: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID })),
    /** Include clips replaced by a longer one from the same viewer. */
    replaced: Type.Boolean({ default: false }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
    /** Clip id cursor: clips after this one (ids grow with time). */
    after: Type.Integer({ minimum: 0, maximum: MAX_SAFE_ID, default: 0 }),
  },
  { additionalProperties: false },
);
const StreamsQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }) }, { additionalProperties: false });

/**
 * The bot's API: per-channel settings (operators: `ADMIN_TOKEN`), and a channel's clips and streams for a
 * recap renderer (operators, or the streamer: a session token whose `owns` names the channel's room).
 */
export function registerRoutes(app: FastifyInstance, options: RoutesOptions): void {
  const adminBearer = Buffer.from(`Bearer ${options.adminToken}`);
  const isAdmin = (request: FastifyRequest) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === adminBearer.length && timingSafeEqual(given, adminBearer);
  };
  /** Operators, or the channel's own streamer. */
  const authorize = (request: FastifyRequest, roomId: string, streamerToo: boolean) => {
    if (isAdmin(request)) return;
    // Operator-only routes refuse any other bearer before its signature is looked at.
    if (!/^Bearer \S+$/.test(request.headers.authorization ?? '')) throw new HttpError(401, 'unauthorized', 'A bearer token is required');
    if (!streamerToo) throw new HttpError(403, 'forbidden', 'Only operators may do this');
    const owns = authenticateSession(request.headers.authorization, options.session, options.now()).ownsRooms;
    if (!owns.includes(roomId)) throw new HttpError(403, 'forbidden', 'This token does not own the channel');
  };
  const channelOf = (roomId: string) => {
    const room = parseRoomId(roomId);
    if (!room) throw new HttpError(400, 'invalid_channel_id', 'Channel id must be a room id: kick-<id> or 1-64 of A-Z a-z 0-9 _ -');
    return room;
  };

  app.get<{ Params: Static<typeof Params> }>('/v1/channels/:channelId/bot-settings', { schema: { params: Params } }, async (request) => {
    authorize(request, request.params.channelId, false);
    const room = channelOf(request.params.channelId);
    return readSettings(options.db, room.platform, room.channelId);
  });

  app.put<{ Params: Static<typeof Params>; Body: Static<typeof Settings> }>(
    '/v1/channels/:channelId/bot-settings',
    { schema: { params: Params, body: Settings } },
    async (request) => {
      authorize(request, request.params.channelId, false);
      const room = channelOf(request.params.channelId);
      const body: BotSettings = request.body;
      if (body.minClipS > body.maxClipS) throw new HttpError(422, 'validation_failed', 'minClipS must not exceed maxClipS');
      return writeSettings(options.db, room.platform, room.channelId, body);
    },
  );

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof StreamsQuery> }>(
    '/v1/channels/:channelId/streams',
    { schema: { params: Params, querystring: StreamsQuery } },
    async (request) => {
      authorize(request, request.params.channelId, true);
      const room = channelOf(request.params.channelId);
      const { rows } = await sql<{ id: string; started_at: Date; ended_at: Date | null; source: string; clips: number }>`
        SELECT s.id, s.started_at, s.ended_at, s.source,
               (SELECT count(*)::int FROM clips c WHERE c.stream_id = s.id AND c.status = 'active') AS clips
        FROM live_streams s WHERE s.platform = ${room.platform} AND s.channel_id = ${room.channelId}
        ORDER BY s.started_at DESC LIMIT ${request.query.limit}`.execute(options.db);
      return { streams: rows.map((r) => ({ id: Number(r.id), startedAt: r.started_at.toISOString(), endedAt: r.ended_at?.toISOString() ?? null, source: r.source, clips: r.clips })) };
    },
  );

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof ClipsQuery> }>(
    '/v1/channels/:channelId/clips',
    { schema: { params: Params, querystring: ClipsQuery } },
    async (request) => {
      authorize(request, request.params.channelId, true);
      const room = channelOf(request.params.channelId);
      const q = request.query;
      const { rows } = await sql<ClipRow>`
        SELECT ${CLIP_COLUMNS} FROM clips
        WHERE platform = ${room.platform} AND channel_id = ${room.channelId} AND id > ${q.after}
          ${q.stream === undefined ? sql`` : sql`AND stream_id = ${q.stream}`}
          ${q.replaced ? sql`` : sql`AND status = 'active'`}
        ORDER BY id LIMIT ${q.limit}`.execute(options.db);
      const clips = rows.map(clipView);
      return { clips, next: clips.length === q.limit ? clips.at(-1)!.id : null };
    },
  );
}
