import swagger from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError, isCalendarDay, MAX_SAFE_ID } from '@onair/service-kit';
import { assignmentScope, authenticate, principalOf, requireAdmin, type Principal } from '../operators/principal';
import { JobsResponse, SubscriptionsResponse, SummariesResponse, ViewersQuery, ViewersResponse } from './schemas';
import { getStreamer } from './sql/get-streamer';
import { decodeJobRunsCursor, listJobRuns } from './sql/list-job-runs';
import { listStreamers } from './sql/list-streamers';
import { listSummaries } from './sql/list-summaries';
import { subscriptionHealth } from './sql/subscription-health';
import { viewerSeries } from './sql/viewer-series';

/** Free text for a query: printable only (Postgres refuses NUL in text, and control characters match nothing). */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]*$';
/** Ids are `bigint` serials; past 2^53 a number is no longer exact here, and none is that high. */
const Id = Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID });

const StreamersQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: PRINTABLE })),
    sort: Type.Union([Type.Literal('last_activity'), Type.Literal('name')], { default: 'last_activity' }),
  },
  { additionalProperties: false },
);
const StreamerParams = Type.Object({ id: Id });
const SummariesQuery = Type.Object(
  {
    // The pattern documents the form; the handler checks the day exists (2026-02-30 does not).
    day: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    /** First and last day of a range, both included. */
    from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    streamerId: Type.Optional(Id),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const JobsQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: PRINTABLE })),
    status: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    /** `nextCursor` of the previous page (opaque). */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

/**
 * The admin API: streamers (searchable, paginated, with the total), one streamer, daily summaries and
 * recent job runs, behind a bearer token (ADMIN_TOKEN or an operator's own), with its OpenAPI document at
 * /openapi.json. An operator reads only the streamers assigned to them (and their summaries); an admin
 * reads everything. `routes` adds the write routes inside the same authenticated scope.
 */
export function registerReadApi(
  app: FastifyInstance,
  options: {
    db: Kysely<any>;
    adminToken: string;
    /** The service's clock: "today" of the viewers chart when no day is given. */
    now: () => Date;
    /** The console's cookie sessions, accepted where no bearer token is given. */
    session?: (request: FastifyRequest) => Promise<Principal | undefined>;
    routes?: (api: FastifyInstance) => void;
  },
): void {
  /** The operator a request is limited to, as the queries' option (none for an admin). */
  const scopeOf = (request: FastifyRequest): { assignedTo?: number } => {
    const assignedTo = assignmentScope(principalOf(request));
    return assignedTo === undefined ? {} : { assignedTo };
  };
  // Plugins load in registration order when the app starts; nothing here needs awaiting.
  void app.register(swagger, {
    openapi: {
      info: { title: 'onair summary API', version: '1' },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer' } } },
      security: [{ admin: [] }],
    },
  });
  void app.register(async (api) => {
    api.addHook('onRequest', authenticate({ db: options.db, adminToken: options.adminToken, ...(options.session ? { session: options.session } : {}) }));

    api.get<{ Querystring: Static<typeof StreamersQuery> }>('/v1/streamers', { schema: { querystring: StreamersQuery } }, async (request) => {
      const { limit, offset, q, sort } = request.query;
      const assignedTo = assignmentScope(principalOf(request));
      const page = await listStreamers(options.db, { limit, offset, sort, ...(q ? { q } : {}), ...(assignedTo !== undefined ? { assignedTo } : {}) });
      return { total: page.total, limit, offset, items: page.items };
    });

    api.get<{ Params: Static<typeof StreamerParams> }>('/v1/streamers/:id', { schema: { params: StreamerParams } }, async (request) => {
      const streamer = await getStreamer(options.db, request.params.id, assignmentScope(principalOf(request)));
      if (!streamer) throw new HttpError(404, 'not_found', `No streamer ${request.params.id}`);
      return streamer;
    });

    api.get<{ Params: Static<typeof StreamerParams>; Querystring: Static<typeof ViewersQuery> }>(
      '/v1/streamers/:id/viewers',
      { schema: { params: StreamerParams, querystring: ViewersQuery, response: { 200: ViewersResponse } } },
      async (request) => {
        const day = request.query.day ?? options.now().toISOString().slice(0, 10);
        if (!isCalendarDay(day)) throw new HttpError(400, 'invalid_query', 'day must be a calendar day, YYYY-MM-DD');
        const from = new Date(`${day}T00:00:00Z`);
        const series = await viewerSeries(options.db, {
          streamerId: request.params.id,
          from,
          to: new Date(from.getTime() + 86_400_000),
          ...scopeOf(request),
        });
        if (!series) throw new HttpError(404, 'not_found', `No streamer ${request.params.id}`);
        return { day, series };
      },
    );

    api.get<{ Params: Static<typeof StreamerParams> }>(
      '/v1/streamers/:id/subscriptions',
      { schema: { params: StreamerParams, response: { 200: SubscriptionsResponse } } },
      async (request) => {
        const channels = await subscriptionHealth(options.db, { streamerId: request.params.id, ...scopeOf(request) });
        if (!channels) throw new HttpError(404, 'not_found', `No streamer ${request.params.id}`);
        return { channels };
      },
    );

    api.get<{ Querystring: Static<typeof SummariesQuery> }>(
      '/v1/summaries',
      { schema: { querystring: SummariesQuery, response: { 200: SummariesResponse } } },
      async (request) => {
        const { day, from, to, streamerId, limit, offset } = request.query;
        for (const [name, value] of [['day', day], ['from', from], ['to', to]] as const) {
          if (value !== undefined && !isCalendarDay(value)) throw new HttpError(400, 'invalid_query', `${name} must be a calendar day, YYYY-MM-DD`);
        }
        if (from !== undefined && to !== undefined && from > to) throw new HttpError(400, 'invalid_query', 'from must not be after to');
        const page = await listSummaries(options.db, {
          limit,
          offset,
          ...(day ? { day } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(streamerId ? { streamerId } : {}),
          ...scopeOf(request),
        });
        return { items: page.items, limit, offset, nextOffset: page.hasMore ? offset + limit : null };
      },
    );

    api.get<{ Querystring: Static<typeof JobsQuery> }>('/v1/jobs', { schema: { querystring: JobsQuery, response: { 200: JobsResponse } } }, async (request) => {
      requireAdmin(request);
      const { name, status, limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeJobRunsCursor(cursor);
      if (cursor !== undefined && !after) throw new HttpError(400, 'invalid_query', 'cursor is not one this API gave out');
      return listJobRuns(options.db, { limit, ...(name ? { name } : {}), ...(status ? { status } : {}), ...(after ? { after } : {}) });
    });

    options.routes?.(api);
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
