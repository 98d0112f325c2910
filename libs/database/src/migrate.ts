import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as chatMessages from './migrations/0001-chat-messages';
import * as probes from './migrations/0002-probes';
import * as channelDailyStats from './migrations/0003-channel-daily-stats';
import * as jobRuns from './migrations/0004-job-runs';
import * as chatStreamSeq from './migrations/0006-chat-stream-seq';
import * as timeBrinIndexes from './migrations/0007-time-brin-indexes';
import * as streamerSearch from './migrations/0008-streamer-search';
import * as claimSpeed from './migrations/0009-claim-speed';
import * as telegramSends from './migrations/0010-telegram-sends';
import * as chatBot from './migrations/0011-chat-bot';
import * as gifts from './migrations/0012-gifts';
import * as summaryGifts from './migrations/0013-summary-gifts';
import * as operators from './migrations/0014-operators';
import * as sendGift from './migrations/0015-send-gift';
import * as lastActivity from './migrations/0016-last-activity';
import * as consoleSessions from './migrations/0017-console-sessions';
import * as jobRunsKeyset from './migrations/0018-job-runs-keyset';
import * as rerunIdempotency from './migrations/0019-rerun-idempotency';
import * as dailySummaries from './migrations/0005-daily-summaries';
import { ensureMonthlyPartitions, MONTHLY_TABLES, type MonthlyTable } from './partitions';

/** Every migration in order. Imported statically so the list is the same under tsx, vitest and bundles. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-chat-messages': chatMessages,
  '0002-probes': probes,
  '0003-channel-daily-stats': channelDailyStats,
  '0004-job-runs': jobRuns,
  '0005-daily-summaries': dailySummaries,
  '0006-chat-stream-seq': chatStreamSeq,
  '0007-time-brin-indexes': timeBrinIndexes,
  '0008-streamer-search': streamerSearch,
  '0009-claim-speed': claimSpeed,
  '0010-telegram-sends': telegramSends,
  '0011-chat-bot': chatBot,
  '0012-gifts': gifts,
  '0013-summary-gifts': summaryGifts,
  '0014-operators': operators,
  '0015-send-gift': sendGift,
  '0016-last-activity': lastActivity,
  '0017-console-sessions': consoleSessions,
  '0018-job-runs-keyset': jobRunsKeyset,
  '0019-rerun-idempotency': rerunIdempotency,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Brings the schema to the latest migration, then makes sure the monthly partitions around `now` exist.
 * `now` is required, not defaulted: a test that forgot it would build partitions from the calendar.
 * Kysely's Migrator takes an advisory lock, so replicas starting together migrate once.
 */
export async function migrateToLatest(db: Kysely<any>, now: Date): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed`, { cause: error });
  }
  for (const table of Object.keys(MONTHLY_TABLES) as MonthlyTable[]) {
    await ensureMonthlyPartitions(db, table, now, 1, 3);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
