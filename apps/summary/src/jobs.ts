import type { Analytics } from '@onair/analytics';
import { dropMonthlyPartitionsBefore, ensureMonthlyPartitions, type MonthlyTable } from '@onair/database';
import { daily, previousUtcDay, type JobDefinition } from '@onair/jobs';
import type { Notifier } from '@onair/notifier';
import type { Kysely } from 'kysely';
import {
  computeDailySummariesClickHouse,
  computeDailySummariesPostgres,
  formatDailySummaryMessage,
  upsertDailySummaries,
} from './daily-summary';
import { channelNames } from './sql/channel-names';

export interface SummaryJobDeps {
  db: Kysely<any>;
  /** The ClickHouse path computes the figures when present; Postgres otherwise (same numbers, tested). */
  analytics?: () => Analytics | undefined;
  notifier?: Notifier;
  /** Days of probes and chat kept in Postgres. */
  retentionDays: number;
  /** The clock partitions ahead and the retention cutoff are computed from (required, as the job runner's). */
  now: () => Date;
}

const PARTITIONED: MonthlyTable[] = ['probes', 'chat_messages'];

/** Computes, stores and (optionally) announces one UTC day's summaries. Idempotent per day. */
export async function summariseDay(deps: Omit<SummaryJobDeps, 'now'>, day: string, options: { notify: boolean }): Promise<number> {
  const analytics = deps.analytics?.();
  const rows = analytics ? await computeDailySummariesClickHouse(analytics, deps.db, day) : await computeDailySummariesPostgres(deps.db, day);
  await upsertDailySummaries(deps.db, rows);
  if (options.notify && deps.notifier) {
    const names = await channelNames(deps.db, rows.map((r) => r.channelId));
    // Once per day and period: a retry after a failed send sends again, which is the point.
    await deps.notifier.send(formatDailySummaryMessage(day, rows, names), { idempotencyKey: `daily-summary:${day}` });
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
      ackWaitMs: 120_000,
      maxAttempts: 8,
      run: async ({ periodKey, logger }) => {
        const channels = await summariseDay(deps, periodKey, { notify: true });
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
  ];
}
