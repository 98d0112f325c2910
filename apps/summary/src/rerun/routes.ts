import { createHash, randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { HttpError, isCalendarDay } from '@onair/service-kit';
import { insertAudit } from '../audit/sql/insert-audit';
import { requireAdmin, type Principal } from '../operators/principal';
import { RerunBody, RerunHeaders, RerunResponse } from '../read-api/schemas';
import { RERUN_JOB, rerunPeriodKey } from './rerun-key';

const DAY_MS = 86_400_000;
/** Printable ASCII, no spaces: a UUID, a ULID or any client's own scheme fits. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
/** The migration 0019 index that makes one key one audit row. */
const IDEMPOTENCY_INDEX = 'audit_log_rerun_idempotency';

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
 *
 * `Idempotency-Key` (optional; the console sends one per submitted form): the same key from the same
 * principal is the same request however late it comes: the request id is derived from it, so the job's
 * msgID is the same, and the audit row records it under a unique index, so a retry, even one racing the
 * first, answers the first one's 202 (`idempotent-replayed: true`) and queues nothing. The same key with
 * another day or notify is refused (422 `idempotency_key_reused`), as a payment API would.
 */
export function registerRerunRoutes(api: FastifyInstance, deps: RerunRouteDeps): void {
  api.post<{ Body: Static<typeof RerunBody> }>(
    '/v1/summaries/rerun',
    { schema: { body: RerunBody, headers: RerunHeaders, response: { 202: RerunResponse } } },
    async (request, reply) => {
      const principal = requireAdmin(request);
      const { day, notify } = request.body;
      if (!isCalendarDay(day)) throw new HttpError(422, 'validation_failed', 'day must be a calendar day, YYYY-MM-DD');
      // A retry of a request already taken answers as it did, even once its day has left retention.
      const key = idempotencyKeyOf(request.headers['idempotency-key']);
      if (key !== undefined) {
        const earlier = await findKeyed(deps.db, principal, key);
        if (earlier) return replay(reply, earlier, day, notify);
      }
      const now = deps.now();
      if (day > now.toISOString().slice(0, 10)) throw new HttpError(422, 'day_in_future', `${day} has not begun yet (UTC)`);
      const oldest = new Date(now.getTime() - deps.retentionDays * DAY_MS).toISOString().slice(0, 10);
      if (day < oldest) {
        throw new HttpError(422, 'day_out_of_retention', `Probes and chat are kept ${deps.retentionDays} days: the oldest day that can be rerun is ${oldest}`);
      }
      if (notify && !deps.canNotify) throw new HttpError(422, 'notifier_not_configured', 'No Telegram chat is configured to send the message to');
      const periodKey = rerunPeriodKey({ day, notify, requestId: key === undefined ? randomUUID() : keyedRequestId(principal, key) });
      const jobKey = `${RERUN_JOB}:${periodKey}`;
      try {
        await deps.db.transaction().execute(async (tx) => {
          await insertAudit(tx, principal, now, {
            action: 'summary.rerun',
            // A rerun's target is the day's summary.
            targetType: 'summary',
            targetId: day,
            before: null,
            after: key === undefined ? { day, notify, jobKey } : { day, notify, jobKey, idempotencyKey: key },
          });
          try {
            await deps.enqueue(RERUN_JOB, periodKey);
          } catch (error) {
            request.log.error({ err: error, jobKey }, 'rerun not enqueued');
            throw new HttpError(503, 'jobs_unavailable', 'The job queue did not take the rerun; try again');
          }
        });
      } catch (error) {
        // A request with the same key committed while this one waited on the index: answer with its run.
        const earlier = key !== undefined && isKeyTaken(error) ? await findKeyed(deps.db, principal, key) : undefined;
        if (!earlier) throw error;
        return replay(reply, earlier, day, notify);
      }
      return reply.code(202).send({ day, notify, jobKey, job: RERUN_JOB, periodKey });
    },
  );
}

interface KeyedRerun {
  day: string;
  notify: boolean;
  jobKey: string;
}

function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
    throw new HttpError(400, 'invalid_headers', 'Idempotency-Key must be 1 to 128 printable ASCII characters without spaces, sent once');
  }
  return header;
}

/** A UUID-shaped id from (principal, key): the same key from the same principal is the same run. */
function keyedRequestId(principal: Principal, key: string): string {
  const hex = createHash('sha256').update(`${principal.operatorId ?? 0}\n${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

async function findKeyed(db: Kysely<any>, principal: Principal, key: string): Promise<KeyedRerun | undefined> {
  // The predicate and expressions of the 0019 index, so this is one index probe.
  const { rows } = await sql<{ after: KeyedRerun }>`
    SELECT after FROM audit_log
    WHERE action = 'summary.rerun' AND after ? 'idempotencyKey'
      AND COALESCE(operator_id, 0) = ${principal.operatorId ?? 0} AND after ->> 'idempotencyKey' = ${key}`.execute(db);
  return rows[0]?.after;
}

function replay(reply: FastifyReply, earlier: KeyedRerun, day: string, notify: boolean) {
  if (earlier.day !== day || earlier.notify !== notify) {
    throw new HttpError(
      422,
      'idempotency_key_reused',
      `This Idempotency-Key already queued the rerun of ${earlier.day}${earlier.notify ? ' with its message' : ''}; use a new key for another request`,
    );
  }
  const periodKey = earlier.jobKey.slice(RERUN_JOB.length + 1);
  return reply.code(202).header('idempotent-replayed', 'true').send({ day, notify, jobKey: earlier.jobKey, job: RERUN_JOB, periodKey });
}

function isKeyTaken(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown };
  return e?.code === '23505' && e.constraint === IDEMPOTENCY_INDEX;
}
