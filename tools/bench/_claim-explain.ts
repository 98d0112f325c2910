import { sql } from 'kysely';
import { createDb, migrateToLatest } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { claimChannels } from '../../apps/probe-scheduler/src/sql/claim-channels';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const testDb = await createTestDatabase('claim_explain');
const db = createDb({ url: testDb.url, poolMax: 2 });
await migrateToLatest(db.db, new Date(T0));
await sql`INSERT INTO streamers (display_name) SELECT 's' || g FROM generate_series(1, 10000) g`.execute(db.db);
await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) SELECT id, 'kick', (100000 + id)::text, 'slug' || id FROM streamers ORDER BY id`.execute(db.db);
await sql`ANALYZE`.execute(db.db);
// Seed everything (first claim) and spread next_probe_at over a minute, as in steady state.
let claimed = 0;
for (;;) { const c = await claimChannels(db.db, { now: new Date(T0), replica: 'x', limit: 5000, holdMs: 30000 }); claimed += c.length; if (c.length === 0) break; }
await sql`UPDATE probe_schedule SET next_probe_at = ${new Date(T0 + 60000)}::timestamptz + (channel_id % 60) * interval '1 second', claimed_until = NULL, claimed_by = NULL`.execute(db.db);
await sql`VACUUM ANALYZE probe_schedule`.execute(db.db);
console.log('seeded', claimed);
const now = new Date(T0 + 65000); // ~5 s worth due: ~830 rows
const times: number[] = [];
for (let i = 0; i < 12; i++) {
  await sql`UPDATE probe_schedule SET claimed_until = NULL`.execute(db.db);
  const t = performance.now();
  const rows = await claimChannels(db.db, { now, replica: 'x', limit: 1000, holdMs: 30000 });
  times.push(performance.now() - t);
  if (i === 0) console.log('rows', rows.length);
}
console.log('claim ms', times.map((t) => t.toFixed(1)).join(' '));
const text = (await import('node:fs')).readFileSync(new URL('../../apps/probe-scheduler/src/sql/claim-channels.ts', import.meta.url), 'utf8');
await sql`UPDATE probe_schedule SET claimed_until = NULL`.execute(db.db);
// EXPLAIN the same statement through a prepared copy.
const client = await db.pool.connect();
const q = text.slice(text.indexOf('WITH seeded AS'), text.indexOf('`.execute(db)'))
  .replaceAll('${options.now}', '$1').replaceAll('${holdUntil}', '$2').replaceAll('${options.replica}', '$3').replaceAll('${options.limit}', '$4');
const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${q}`, [now, new Date(now.getTime() + 30000), 'x', 1000]);
console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
client.release();
await db.close();
await testDb.drop();
