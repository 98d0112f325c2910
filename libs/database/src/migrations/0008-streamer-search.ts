import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The admin list searches names and slugs by substring (ILIKE '%…%'): trigram indexes serve that.
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  await sql`CREATE INDEX streamers_name_trgm ON streamers USING gin (display_name gin_trgm_ops)`.execute(db);
  await sql`CREATE INDEX streamer_channels_slug_trgm ON streamer_channels USING gin (slug gin_trgm_ops)`.execute(db);
  // When any of the streamer's channels was last seen live, kept by the prober: the list sorts by it
  // through an index instead of aggregating every channel's schedule per request.
  await sql`ALTER TABLE streamers ADD COLUMN last_live_at timestamptz`.execute(db);
  await sql`CREATE INDEX streamers_last_live ON streamers (last_live_at DESC NULLS LAST, id)`.execute(db);
  await sql`CREATE INDEX streamers_name ON streamers (display_name, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX streamers_name`.execute(db);
  await sql`DROP INDEX streamers_last_live`.execute(db);
  await sql`ALTER TABLE streamers DROP COLUMN last_live_at`.execute(db);
  await sql`DROP INDEX streamer_channels_slug_trgm`.execute(db);
  await sql`DROP INDEX streamers_name_trgm`.execute(db);
}
