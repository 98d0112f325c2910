import type { FastifyReply } from 'fastify';
import type Pusher from 'pusher';
import { chatToGatewayConsumer, eventsToGatewayConsumer, parseRoomId, probesToGatewayConsumer, roomChannel, type ConsumerDefinition, type Topology } from '@onair/contracts';
import { createConsumerSet, type BatchConsumerOptions, type Messaging } from '@onair/messaging';
import { createHttpServer, MAX_SAFE_ID, type HttpServer, type HttpServerConfig, type Logger, type RateLimiter } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';
import type { SessionKeys } from '@onair/session';
import { registerAuthRoutes } from './auth-routes';
import { createChatFanout } from './chat-fanout';
import { createEventFanout } from './event-fanout';
import type { LiveKitConfig } from './livekit';
import { roomHistory, type HistoryPage } from './history';
import { EMPTY_TAIL, startRoomTail, type RoomTail } from './room-tail';
import { Type, type Static } from '@sinclair/typebox';
import { HttpError } from '@onair/service-kit';
import type { Db } from '@onair/database';
import { createTriggerQueue } from './trigger-queue';
import { registerPresenceWebhooks } from './presence';
import { registerRoomPage, type RoomPageOptions } from './page/page-routes';
import { createLeaderboardPusher, LEADERBOARD_TOP, readLeaderboard } from './leaderboard';
import { GIFTS_PROXY_PREFIX, registerGiftsProxy, type GiftsProxyOptions } from './gifts-proxy';

export interface GatewayDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  pusher: Pick<Pusher, 'triggerBatch' | 'authorizeChannel' | 'authenticateUser' | 'get'>;
  /** The Pusher app's key and secret, which sign the Pusher server's webhooks to us. */
  pusherApp: { key: string; secret: string };
  /** What the room page's browsers need to reach the Pusher server (public values). */
  page: Omit<RoomPageOptions, 'giftsUrl'>;
  /** The gifts service the room page sends gifts through (forwarded: see gifts-proxy.ts). Absent: no gift form. */
  gifts?: GiftsProxyOptions;
  /** Shortest gap between two `leaderboard` events of one room, in ms (default 1,000). */
  leaderboardIntervalMs?: number;
  /** Shortest gap between two audience-count readings of one channel. */
  presenceWindowMs: number;
  session: SessionKeys;
  /** The auth and join routes' budget: per signed-in user, per client address without a session. */
  rateLimiter: RateLimiter;
  /** The history route's own budget, per client address (it needs no session). */
  historyRateLimiter: RateLimiter;
  coalesceWindowMs: number;
  livekit?: LiveKitConfig;
  /** Read access to chat history, for gap recovery past the stream's retention. */
  db: Db;
  /** The per-replica tail of every room's newest messages (room-tail.ts): per room, and rooms kept. */
  historyTail?: { perRoom: number; rooms: number };
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
}

const HistoryQuery = Type.Object(
  {
    // Stream sequences are uint64, but past 2^53 a number is no longer exact here, and none is that high.
    /** Gap recovery: the messages after this sequence, oldest first. */
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SAFE_ID })),
    /** Scroll back: the messages before this sequence. Without `after` or `before`: the room's newest. */
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  },
  { additionalProperties: false },
);

const LeaderboardQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: LEADERBOARD_TOP, default: LEADERBOARD_TOP }) },
  { additionalProperties: false },
);

/** How long chat-writer's ack floor (what Postgres holds) is reused between history reads, in ms. */
const POSTGRES_FLOOR_TTL_MS = 500;

export interface Gateway {
  server: HttpServer;
  /** Starts fanning chat, platform events and viewer counts out to the Pusher server. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the realtime gateway without listening or consuming. */
export function buildApp(deps: GatewayDeps): Gateway {
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    readiness: { nats: () => deps.messaging.connected },
    ...deps.http,
  });
  registerAuthRoutes(server.app, {
    pusher: deps.pusher,
    session: deps.session,
    rateLimiter: deps.rateLimiter,
    ...(deps.livekit ? { livekit: deps.livekit } : {}),
  });
  let tail: RoomTail = EMPTY_TAIL;
  // What Postgres holds: chat-writer's ack floor on the chat stream, read at most every 500 ms.
  let floor: { at: number; value: Promise<number> } | undefined;
  const postgresFloor = () => {
    const now = Date.now();
    if (!floor || now - floor.at > POSTGRES_FLOOR_TTL_MS) {
      const value = deps.messaging.jsm.consumers
        .info(deps.topology.chat.stream, deps.topology.consumers.chatToPostgres)
        .then((info) => info.ack_floor.stream_seq, () => 0);
      floor = { at: now, value };
    }
    return floor.value;
  };
  // Hot-room joins share work: identical requests in flight wait for the one read.
  const inFlight = new Map<string, Promise<HistoryPage>>();
  const historyRequests = new Counter({
    name: 'gateway_history_requests_total',
    help: 'History requests answered, by how: read (a history read ran), shared (joined a read in flight).',
    labelNames: ['how'],
    registers: [deps.registry],
  });
  const historyReads = new Counter({
    name: 'gateway_history_reads_total',
    help: 'History reads by where the page came from (tail: memory only; history: Postgres; stream: JetStream reads).',
    labelNames: ['source'],
    registers: [deps.registry],
  });
  // Public reads (what the room page reads without a session) may be read from any origin: the operators'
  // console (served by summary), a creator's own site. No credentials ride on them, so `*` exposes nothing
  // a plain request could not get; errors carry the header too, so a page can read its 429.
  const anyOrigin = async (_request: unknown, reply: FastifyReply) => {
    reply.header('access-control-allow-origin', '*');
  };
  // What a browser needs to open a room feed from another origin: the Pusher server's public values.
  server.app.get('/v1/client-config', { onRequest: anyOrigin }, async () => ({ pusher: deps.page.pusher }));
  // A room's history: its newest messages on a join, older ones on scroll-back, what it missed on a gap.
  server.app.get<{ Params: { roomId: string }; Querystring: Static<typeof HistoryQuery> }>(
    '/v1/rooms/:roomId/messages',
    { schema: { querystring: HistoryQuery }, onRequest: anyOrigin },
    async (request) => {
      const wait = deps.historyRateLimiter.take(request.ip);
      if (wait > 0) throw new HttpError(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': String(wait) } });
      const room = parseRoomId(request.params.roomId);
      if (!room) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ - (or kick-<id>)');
      const { after, before, limit } = request.query;
      if (after !== undefined && before !== undefined) throw new HttpError(400, 'invalid_query', 'Give after or before, not both');
      const key = `${request.params.roomId}|${after ?? ''}|${before ?? ''}|${limit}`;
      let reading = inFlight.get(key);
      historyRequests.labels(reading ? 'shared' : 'read').inc();
      if (!reading) {
        const query = after !== undefined ? { after, limit } : before !== undefined ? { before, limit } : { limit };
        reading = roomHistory(
          { messaging: deps.messaging, topology: deps.topology, db: deps.db.db, tail, postgresFloor },
          { ...room, channel: roomChannel(room.platform, room.channelId) },
          query,
        )
          .then((page) => {
            historyReads.labels(page.source).inc();
            return page;
          })
          .finally(() => inFlight.delete(key));
        inFlight.set(key, reading);
      }
      return reading;
    },
  );
  // A room's top gifters (the day's and the stream's), as the `leaderboard` event carries them.
  server.app.get<{ Params: { roomId: string }; Querystring: Static<typeof LeaderboardQuery> }>(
    '/v1/rooms/:roomId/leaderboard',
    { schema: { querystring: LeaderboardQuery }, onRequest: anyOrigin },
    async (request) => {
      // Same budget as history: a page load asks for both.
      const wait = deps.historyRateLimiter.take(request.ip);
      if (wait > 0) throw new HttpError(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': String(wait) } });
      const room = parseRoomId(request.params.roomId);
      if (!room) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ - (or kick-<id>)');
      return readLeaderboard(deps.db.db, room, Date.now(), request.query.limit);
    },
  );
  if (deps.gifts) registerGiftsProxy(server.app, deps.gifts);
  registerRoomPage(server.app, { ...deps.page, ...(deps.gifts ? { giftsUrl: GIFTS_PROXY_PREFIX } : {}) });
  const presence = registerPresenceWebhooks(server.app, {
    pusher: deps.pusher,
    appKey: deps.pusherApp.key,
    appSecret: deps.pusherApp.secret,
    messaging: deps.messaging,
    topology: deps.topology,
    registry: deps.registry,
    logger: deps.logger,
    windowMs: deps.presenceWindowMs,
  });
  const triggers = createTriggerQueue(deps.pusher, deps.registry);
  const fanout = createChatFanout({ triggers, windowMs: deps.coalesceWindowMs, tail: () => tail, registry: deps.registry });
  const leaderboards = createLeaderboardPusher({
    db: deps.db.db,
    triggers,
    logger: deps.logger,
    registry: deps.registry,
    intervalMs: deps.leaderboardIntervalMs ?? 1_000,
  });
  const events = createEventFanout(triggers, leaderboards.touch);
  const consumers = createConsumerSet();
  const consume = (definition: ConsumerDefinition, handle: BatchConsumerOptions['handle'], maxBatch: number) =>
    consumers.start({
      messaging: deps.messaging,
      definition,
      deadLetterSubject: deps.topology.deadLetter.subject(definition.durable),
      logger: deps.logger,
      registry: deps.registry,
      maxBatch,
      // A quiet room's message must not wait for a batch to fill: the coalescer does the gathering.
      maxWaitMs: 1,
      // A chat batch is held (unacked) until its room's window flushes. With few slots, a hot room's
      // messages queued behind held batches and waited for a second window (measured: p50 114 ms at a
      // 100 ms window, against 48 ms for ideal coalescing); holding costs only a promise per batch, and
      // the consumer's max_ack_pending still bounds what is held.
      concurrency: 256,
      handle,
    });
  return {
    server,
    async start() {
      tail = await startRoomTail({
        messaging: deps.messaging,
        topology: deps.topology,
        logger: deps.logger,
        perRoom: deps.historyTail?.perRoom ?? 200,
        rooms: deps.historyTail?.rooms ?? 5_000,
        channelOf: roomChannel,
      });
      await consume(chatToGatewayConsumer(deps.topology), fanout.handle, 500);
      await consume(eventsToGatewayConsumer(deps.topology), events.handleEvents, 100);
      await consume(probesToGatewayConsumer(deps.topology), events.handleProbes, 500);
    },
    async stop() {
      await presence.flushAll();
      await consumers.stop();
      leaderboards.stop();
      await tail.stop();
      await fanout.coalescer.flushAll();
    },
  };
}
