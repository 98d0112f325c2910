import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpError, isCalendarDay } from '@onair/service-kit';
import { insertAudit } from '../audit/sql/insert-audit';
import { requireAdmin } from '../operators/principal';
import { RerunBody, RerunResponse } from '../read-api/schemas';
import { RERUN_JOB, rerunPeriodKey } from './rerun-key';

const DAY_MS = 86_400_000;

export interface RerunRouteDeps {
  db: Kysely<any>;
  now: () => Date;
  /** Days of probes and chat Postgres keeps: an older day can no longer be recomputed. */
  retentionDays: number;
  /** False without a Telegram notifier: a rerun with notify is refused rather than silently not sent. */
  canNotify: boolean;
  /** The job runner's enqueue. */
  enqueue: (name: string, periodKey: string) => Promise<unknown>;
}

/**
 * `POST /v1/summaries/rerun` (admin): queues a rerun of one UTC day's summaries as the durable
 * `daily-summary-rerun` job and answers 202 at once. Each request is its own run (its own period key)
 * and, with notify, its own Telegram message, sent at most once whatever the run's retries. The request
 * is audited as `summary.rerun` on target `summary` / the day, in one transaction with the enqueue: a
 * request NATS did not take leaves no audit row.
 */
export function registerRerunRoutes(api: FastifyInstance, deps: RerunRouteDeps): void {
  api.post<{ Body: Static<typeof RerunBody> }>(
    '/v1/summaries/rerun',
    { schema: { body: RerunBody, response: { 202: RerunResponse } } },
    async (request, reply) => {
      const principal = requireAdmin(request);
      const { day, notify } = request.body;
      if (!isCalendarDay(day)) throw new HttpError(422, 'validation_failed', 'day must be a calendar day, YYYY-MM-DD');
      const now = deps.now();
      if (day > now.toISOString().slice(0, 10)) throw new HttpError(422, 'day_in_future', `${day} has not begun yet (UTC)`);
      const oldest = new Date(now.getTime() - deps.retentionDays * DAY_MS).toISOString().slice(0, 10);
      if (day < oldest) {
        throw new HttpError(422, 'day_out_of_retention', `Probes and chat are kept ${deps.retentionDays} days: the oldest day that can be rerun is ${oldest}`);
      }
      if (notify && !deps.canNotify) throw new HttpError(422, 'notifier_not_configured', 'No Telegram chat is configured to send the message to');
      const periodKey = rerunPeriodKey({ day, notify, requestId: randomUUID() });
      const jobKey = `${RERUN_JOB}:${periodKey}`;
      await deps.db.transaction().execute(async (tx) => {
        await insertAudit(tx, principal, now, {
          action: 'summary.rerun',
          // A rerun's target is the day's summary.
          targetType: 'summary',
          targetId: day,
          before: null,
          after: { day, notify, jobKey },
        });
        try {
          await deps.enqueue(RERUN_JOB, periodKey);
        } catch (error) {
          request.log.error({ err: error, jobKey }, 'rerun not enqueued');
          throw new HttpError(503, 'jobs_unavailable', 'The job queue did not take the rerun; try again');
        }
      });
      return reply.code(202).send({ day, notify, jobKey, job: RERUN_JOB, periodKey });
    },
  );
}
