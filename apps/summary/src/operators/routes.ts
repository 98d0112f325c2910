import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError } from '@onair/service-kit';
import { insertAudit } from '../audit/sql/insert-audit';
import { newOperatorToken, requireAdmin, tokenHash } from './principal';
import { insertOperator } from './sql/insert-operator';
import { listOperators } from './sql/list-operators';

const CreateOperatorBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._@-]*$' }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('operator')]),
  },
  { additionalProperties: false },
);

/** `POST /v1/operators` and `GET /v1/operators`, admins only. The token is in the 201 answer and nowhere else. */
export function registerOperatorRoutes(api: FastifyInstance, deps: { db: Kysely<any>; now: () => Date }): void {
  api.post<{ Body: Static<typeof CreateOperatorBody> }>('/v1/operators', { schema: { body: CreateOperatorBody } }, async (request, reply) => {
    const who = requireAdmin(request);
    const token = newOperatorToken();
    const at = deps.now();
    const operator = await deps.db.transaction().execute(async (trx) => {
      const row = await insertOperator(trx, { name: request.body.name, role: request.body.role, tokenSha256: tokenHash(token), createdAt: at, createdBy: who.actor });
      if (!row) throw new HttpError(409, 'operator_exists', 'An operator with this name exists');
      await insertAudit(trx, who, at, { action: 'operator.create', targetType: 'operator', targetId: row.id, before: null, after: row });
      return row;
    });
    return reply.code(201).send({ ...operator, token });
  });

  api.get('/v1/operators', async (request) => {
    requireAdmin(request);
    return { items: await listOperators(deps.db) };
  });
}
