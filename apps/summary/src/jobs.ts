import type { Analytics } from '@onair/analytics';
import { dropMonthlyPartitionsBefore, ensureMonthlyPartitions, type MonthlyTable } from '@onair/database';
import { daily, previousUtcDay, type JobDefinition } from '@onair/jobs';
import type { Notifier } from '@onair/notifier';
import type { Logger } from '@onair/service-kit';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import {
  computeDailySummariesClickHouse,
  computeDailySummariesPostgres,
  formatDailySummaryMessage,
  upsertDailySummaries,
} from './daily-summary';
import { reconcileJob, watchdogJob, type KickSubscriptionJobDeps } from './kick-subscriptions/jobs';
import { parseRerunPeriodKey, RERUN_JOB, RERUN_SEND_KIND } from './rerun/rerun-key';
import { channelNames } from './sql/channel-names';
import { idSetKey, sendOnce } from './telegram-sends';

export interface SummaryJobDeps {
  db: Kysely<any>;
  /** The ClickHouse path computes the figures when present; Postgres otherwise (same numbers, tested). */
  analytics?: () => Analytics | undefined;
  notifier?: Notifier;
  /** Days of probes and chat kept in Postgres. */
  retentionDays: number;
  /** The clock partitions ahead and the retention cutoff are computed from (required, as the job runner's). */
  now: () => Date;
  /** Named in telegram_sends. Default `summary`. */
  worker?: string;
  /** Where telegram_sends_total goes. */
  registry?: Registry;
  /** How long a silent daily-summary worker holds the day before another takes it, in ms. Default 120 s. */
  dailySummaryAckWaitMs?: number;
  /** Kick subscription reconcile and delivery watchdog; absent without Kick credentials. */
  kickSubscriptions?: KickSubscriptionJobDeps;
}

const PARTITIONED: MonthlyTable[] = ['probes', 'chat_messages'];

/**
 * Computes, stores and (optionally) announces one UTC day's summaries. Idempotent per day; the message
 * goes out at most once per day, chat and channel set (telegram_sends), whatever crashes in between.
 * `send` replaces that key: an operator's rerun sends once per request instead (see `rerunJob`).
 */
export async function summariseDay(
  deps: Omit<SummaryJobDeps, 'now'> & { now?: () => Date },
  day: string,
  options: { notify: boolean; logger?: Logger; send?: { kind: string; messageKey: string } },
): Promise<number> {
  const analytics = deps.analytics?.();
  const rows = analytics ? await computeDailySummariesClickHouse(analytics, deps.db, day) : await computeDailySummariesPostgres(deps.db, day);
  await upsertDailySummaries(deps.db, rows);
  if (options.notify && deps.notifier) {
    const names = await channelNames(deps.db, rows.map((r) => r.channelId));
    const text = formatDailySummaryMessage(day, rows, names);
    // A retry after a send Telegram refused sends again; one that may have posted (or died trying) does not.
    await sendOnce(
      {
        db: deps.db,
        notifier: deps.notifier,
        worker: deps.worker ?? 'summary',
        now: deps.now ?? (() => new Date()),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(deps.registry ? { registry: deps.registry } : {}),
      },
      {
        kind: options.send?.kind ?? 'daily-summary',
        periodKey: day,
        messageKey: options.send?.messageKey ?? idSetKey(rows.map((r) => r.channelId)),
        text,
      },
    );
  }
  return rows.length;
}

/** The summary service's scheduled jobs. */
export function summaryJobs(deps: SummaryJobDeps): JobDefinition[] {
  const { now } = deps;
  return [
    {
      name: 'daily-summary',
      schedule: daily({ hour: 0, minute: 5 }),
      periodKey: previousUtcDay,
      ackWaitMs: deps.dailySummaryAckWaitMs ?? 120_000,
      maxAttempts: 8,
      run: async ({ periodKey, logger }) => {
        const channels = await summariseDay(deps, periodKey, { notify: true, logger });
        logger.info({ day: periodKey, channels }, 'daily summaries stored');
      },
    },
    {
      // Partitions exist months before rows arrive, so no insert ever meets a missing one.
      name: 'partitions-ahead',
      schedule: daily({ hour: 0, minute: 10 }),
      periodKey: (at) => at.toISOString().slice(0, 10),
      run: async () => {
        for (const table of PARTITIONED) await ensureMonthlyPartitions(deps.db, table, now(), 0, 3);
      },
    },
    {
      name: 'retention',
      schedule: daily({ hour: 0, minute: 20 }),
      periodKey: (at) => at.toISOString().slice(0, 10),
      run: async ({ logger }) => {
        const cutoff = new Date(now().getTime() - deps.retentionDays * 86_400_000);
        for (const table of PARTITIONED) {
          const dropped = await dropMonthlyPartitionsBefore(deps.db, table, cutoff);
          if (dropped.length > 0) logger.info({ table, dropped }, 'old partitions dropped');
        }
      },
    },
    rerunJob(deps),
    ...(deps.kickSubscriptions ? [reconcileJob(deps.kickSubscriptions), watchdogJob(deps.kickSubscriptions)] : []),
  ];
}

/**
 * An operator's rerun of one day (`POST /v1/summaries/rerun`), on demand only: the period key carries
 * the day, whether to send and the request's id. It recomputes and stores the day; with notify it sends
 * the day's message under (daily-summary-rerun, day, request id), so each request sends once and its
 * retries never send twice (telegram_sends), while the scheduled send of the day stays as it was.
 */
function rerunJob(deps: SummaryJobDeps): JobDefinition {
  return {
    name: RERUN_JOB,
    ackWaitMs: deps.dailySummaryAckWaitMs ?? 120_000,
    maxAttempts: 8,
    run: async ({ periodKey, logger }) => {
      const request = parseRerunPeriodKey(periodKey);
      if (!request) throw new Error(`not a rerun period key: ${periodKey}`);
      const channels = await summariseDay(deps, request.day, {
        notify: request.notify,
        logger,
        send: { kind: RERUN_SEND_KIND, messageKey: request.requestId },
      });
      logger.info({ ...request, channels }, 'daily summaries recomputed on request');
    },
  };
}
