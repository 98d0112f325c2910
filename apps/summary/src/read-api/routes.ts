import { timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError } from '@onair/service-kit';
import { getStreamer } from './sql/get-streamer';
import { listJobRuns } from './sql/list-job-runs';
import { listStreamers } from './sql/list-streamers';
import { listSummaries } from './sql/list-summaries';

const StreamersQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    sort: Type.Union([Type.Literal('last_activity'), Type.Literal('name')], { default: 'last_activity' }),
  },
  { additionalProperties: false },
);
const StreamerParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const SummariesQuery = Type.Object(
  {
    day: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    streamerId: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
const JobsQuery = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    status: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  },
  { additionalProperties: false },
);

/**
 * The admin read API: streamers (searchable, paginated, with the total), one streamer, daily summaries
 * and recent job runs, behind a bearer token, with its OpenAPI document at /openapi.json.
 */
export function registerReadApi(app: FastifyInstance, options: { db: Kysely<any>; adminToken: string }): void {
  // Plugins load in registration order when the app starts; nothing here needs awaiting.
  void app.register(swagger, {
    openapi: {
      info: { title: 'onair summary API', version: '1' },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer' } } },
      security: [{ admin: [] }],
    },
  });
  const expected = Buffer.from(`Bearer ${options.adminToken}`);
  void app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new HttpError(401, 'unauthorized', 'A valid admin bearer token is required');
      }
    });

    api.get<{ Querystring: Static<typeof StreamersQuery> }>('/v1/streamers', { schema: { querystring: StreamersQuery } }, async (request) => {
      const { limit, offset, q, sort } = request.query;
      const page = await listStreamers(options.db, { limit, offset, sort, ...(q ? { q } : {}) });
      return { total: page.total, limit, offset, items: page.items };
    });

    api.get<{ Params: Static<typeof StreamerParams> }>('/v1/streamers/:id', { schema: { params: StreamerParams } }, async (request) => {
      const streamer = await getStreamer(options.db, request.params.id);
      if (!streamer) throw new HttpError(404, 'not_found', `No streamer ${request.params.id}`);
      return streamer;
    });

    api.get<{ Querystring: Static<typeof SummariesQuery> }>('/v1/summaries', { schema: { querystring: SummariesQuery } }, async (request) => {
      const { day, streamerId, limit } = request.query;
      if (day && Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new HttpError(400, 'invalid_query', `day ${day} is not a date`);
      return { items: await listSummaries(options.db, { limit, ...(day ? { day } : {}), ...(streamerId ? { streamerId } : {}) }) };
    });

    api.get<{ Querystring: Static<typeof JobsQuery> }>('/v1/jobs', { schema: { querystring: JobsQuery } }, async (request) => {
      const { name, status, limit } = request.query;
      return { items: await listJobRuns(options.db, { limit, ...(name ? { name } : {}), ...(status ? { status } : {}) }) };
    });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
