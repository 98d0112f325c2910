import swagger from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError, isCalendarDay, MAX_SAFE_ID } from '@onair/service-kit';
import { assignmentScope, authenticate, principalOf, requireAdmin, type Principal } from '../operators/principal';
import { getStreamer } from './sql/get-streamer';
import { listJobRuns } from './sql/list-job-runs';
import { listStreamers } from './sql/list-streamers';
import { listSummaries } from './sql/list-summaries';

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
    streamerId: Type.Optional(Id),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
const JobsQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: PRINTABLE })),
    status: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
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
    /** The console's cookie sessions, accepted where no bearer token is given. */
    session?: (request: FastifyRequest) => Promise<Principal | undefined>;
    routes?: (api: FastifyInstance) => void;
  },
): void {
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

    api.get<{ Querystring: Static<typeof SummariesQuery> }>('/v1/summaries', { schema: { querystring: SummariesQuery } }, async (request) => {
      const { day, streamerId, limit } = request.query;
      if (day !== undefined && !isCalendarDay(day)) throw new HttpError(400, 'invalid_query', 'day must be a calendar day, YYYY-MM-DD');
      const assignedTo = assignmentScope(principalOf(request));
      return {
        items: await listSummaries(options.db, {
          limit,
          ...(day ? { day } : {}),
          ...(streamerId ? { streamerId } : {}),
          ...(assignedTo !== undefined ? { assignedTo } : {}),
        }),
      };
    });

    api.get<{ Querystring: Static<typeof JobsQuery> }>('/v1/jobs', { schema: { querystring: JobsQuery } }, async (request) => {
      requireAdmin(request);
      const { name, status, limit } = request.query;
      return { items: await listJobRuns(options.db, { limit, ...(name ? { name } : {}), ...(status ? { status } : {}) }) };
    });

    options.routes?.(api);
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
