import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { requireBearer } from '@onair/service-kit';
import type { ProbeMetrics } from './metrics';
import { readSettings } from './sql/read-settings';
import { streamStartAudit } from './sql/stream-start-audit';

/** `?hours=` bounds: the window reads one index range of `probes`; a week is the longest that stays cheap. */
const AuditQuery = {
  type: 'object',
  properties: { hours: { type: 'integer', minimum: 1, maximum: 168, default: 24 } },
  additionalProperties: false,
} as const;

/**
 * `GET /v1/audit/stream-starts?hours=<1-168>`: channels whose stream start moved inside one live session in
 * the last `hours` (should be none). Operator-only: it needs the ADMIN_TOKEN bearer, as summary's admin API.
 */
export function registerAuditRoute(
  app: FastifyInstance,
  options: { db: Kysely<any>; adminToken: string; metrics: Pick<ProbeMetrics, 'jitterChannels'>; now: () => Date },
): void {
  app.get<{ Querystring: { hours: number } }>(
    '/v1/audit/stream-starts',
    { onRequest: requireBearer(options.adminToken), schema: { querystring: AuditQuery } },
    async (request) => {
      const { liveProbeMinutes } = await readSettings(options.db);
      const since = new Date(options.now().getTime() - request.query.hours * 3_600_000);
      const sessions = await streamStartAudit(options.db, since, liveProbeMinutes);
      // The gauge speaks of the default day; a wider or narrower look does not move it.
      if (request.query.hours === 24) options.metrics.jitterChannels.set(new Set(sessions.map((s) => s.channelId)).size);
      return { since: since.toISOString(), channels: sessions };
    },
  );
}
