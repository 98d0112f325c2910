import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { requireAdmin } from '../operators/principal';
import { listAudit } from './sql/list-audit';

const AuditQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    /** `nextCursor` of the previous page. */
    cursor: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    targetType: Type.Optional(Type.Union([Type.Literal('streamer'), Type.Literal('operator'), Type.Literal('summary')])),
    /** A streamer's or operator's id, or the day of a `summary` (a rerun). */
    targetId: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,15}|\\d{4}-\\d{2}-\\d{2})$' })),
  },
  { additionalProperties: false },
);

/** `GET /v1/audit`: every write through the API, newest first, admins only, cursor-paginated. */
export function registerAuditRoutes(api: FastifyInstance, deps: { db: Kysely<any> }): void {
  api.get<{ Querystring: Static<typeof AuditQuery> }>('/v1/audit', { schema: { querystring: AuditQuery } }, async (request) => {
    requireAdmin(request);
    const { limit, cursor, targetType, targetId } = request.query;
    return listAudit(deps.db, {
      limit,
      ...(cursor ? { before: Number(cursor) } : {}),
      ...(targetType ? { targetType } : {}),
      ...(targetId ? { targetId } : {}),
    });
  });
}
