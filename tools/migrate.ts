/**
 * `npm run migrate`: brings Postgres (and ClickHouse, unless CLICKHOUSE_URL is empty) to the latest
 * schema. Services also migrate at start; this lets `npm run dev` and deploy jobs do it once, up front.
 */
import { connectAnalytics, migrateAnalytics } from '@onair/analytics';
import { createDb, ensureDatabaseExists, migrateToLatest } from '@onair/database';

const databaseUrl = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/onair';
const clickhouseUrl = process.env['CLICKHOUSE_URL'] ?? 'http://127.0.0.1:8123';

await ensureDatabaseExists(databaseUrl);
const db = createDb({ url: databaseUrl, poolMax: 1, applicationName: 'migrate' });
try {
  const applied = await migrateToLatest(db.db, new Date());
  console.log(`postgres: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
} finally {
  await db.close();
}

if (clickhouseUrl) {
  const analytics = await connectAnalytics({ url: clickhouseUrl, database: process.env['CLICKHOUSE_DATABASE'] || 'onair' });
  try {
    const applied = await migrateAnalytics(analytics);
    console.log(`clickhouse: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  } finally {
    await analytics.close();
  }
} else {
  console.log('clickhouse: CLICKHOUSE_URL is empty, skipped');
}
