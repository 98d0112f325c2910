/**
 * `npm run summary:backfill -- 2026-11-01 2026-11-20` recomputes the daily summaries of a range of UTC
 * days (inclusive) and upserts them, without sending messages. Uses ClickHouse when CLICKHOUSE_URL is
 * set (the default dev URL), Postgres otherwise — the same code the daily job runs.
 */
import { connectAnalytics } from '@onair/analytics';
import { createDb } from '@onair/database';
import { summariseDay } from '../apps/summary/src/jobs';
import { utcDay } from '../apps/summary/src/daily-summary';

const [from, to = from] = process.argv.slice(2);
if (!from) {
  console.error('usage: npm run summary:backfill -- <from YYYY-MM-DD> [to YYYY-MM-DD]');
  process.exit(2);
}
const first = utcDay(from).from.getTime();
const last = utcDay(to!).from.getTime();
if (last < first) {
  console.error(`the range ends (${to}) before it starts (${from})`);
  process.exit(2);
}

const db = createDb({ url: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/onair', poolMax: 2, applicationName: 'summary-backfill' });
const clickhouseUrl = process.env['CLICKHOUSE_URL'] ?? 'http://127.0.0.1:8123';
const analytics = clickhouseUrl ? await connectAnalytics({ url: clickhouseUrl, database: process.env['CLICKHOUSE_DATABASE'] || 'onair' }) : undefined;
try {
  for (let t = first; t <= last; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const channels = await summariseDay({ db: db.db, analytics: () => analytics, retentionDays: 0 }, day, { notify: false });
    console.log(`${day}: ${channels} channels (${analytics ? 'clickhouse' : 'postgres'})`);
  }
} finally {
  await analytics?.close();
  await db.close();
}
