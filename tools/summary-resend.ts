/**
 * `npx tsx tools/summary-resend.ts 2026-11-22 "not in the chat"` sends a day's summary whose Telegram
 * send is `unknown` (a worker died while sending it, or the request timed out), once an operator has
 * looked at the chat and found it missing. It releases the day's `unknown` rows for TELEGRAM_CHAT_ID
 * (they become `failed`), recomputes the day and sends it through the same at-most-once path as the job:
 * run twice, it still sends once. Reads DATABASE_URL, CLICKHOUSE_URL (empty: Postgres), TELEGRAM_API_BASE,
 * TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID as the summary service does.
 */
import { connectAnalytics } from '@onair/analytics';
import { createDb } from '@onair/database';
import { createTelegramNotifier } from '@onair/notifier';
import { sql } from 'kysely';
import { utcDay } from '../apps/summary/src/daily-summary';
import { summariseDay } from '../apps/summary/src/jobs';
import { releaseUnknownSends } from '../apps/summary/src/telegram-sends';

const [day, reason] = process.argv.slice(2);
const token = process.env['TELEGRAM_BOT_TOKEN'] ?? '';
const chatId = process.env['TELEGRAM_CHAT_ID'] ?? '';
if (!day || !reason) {
  console.error('usage: npx tsx tools/summary-resend.ts <YYYY-MM-DD> "<why: what the chat showed>"');
  process.exit(2);
}
if (!token || !chatId) {
  console.error('TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID must be set (the chat the service posts to)');
  process.exit(2);
}
utcDay(day);

const db = createDb({ url: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/onair', poolMax: 2, applicationName: 'summary-resend' });
const clickhouseUrl = process.env['CLICKHOUSE_URL'] ?? 'http://127.0.0.1:8123';
const analytics = clickhouseUrl ? await connectAnalytics({ url: clickhouseUrl, database: process.env['CLICKHOUSE_DATABASE'] || 'onair' }) : undefined;
const notifier = createTelegramNotifier({ apiBase: process.env['TELEGRAM_API_BASE'] || 'https://api.telegram.org', botToken: token, chatId });
try {
  const released = await releaseUnknownSends(db.db, { kind: 'daily-summary', periodKey: day, chatId: notifier.chatId }, { reason, at: new Date() });
  console.log(`${day}: released ${released.length} unknown send(s) ${released.join(', ')}`);
  await summariseDay({ db: db.db, analytics: () => analytics, notifier, retentionDays: 0, worker: 'summary-resend' }, day, { notify: true });
  const { rows } = await sql`
    SELECT id, state, message_ids, sent_at, error FROM telegram_sends
    WHERE kind = 'daily-summary' AND period_key = ${day} AND chat_id = ${notifier.chatId} ORDER BY id`.execute(db.db);
  for (const row of rows) console.log(JSON.stringify(row));
} finally {
  await analytics?.close();
  await db.close();
}
