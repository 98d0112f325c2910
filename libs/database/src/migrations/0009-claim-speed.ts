import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Channels that have no probe_schedule row yet. The claim seeds them every tick; with a flag and a
  // partial index that look-up costs an index probe instead of an anti-join over every channel.
  await sql`ALTER TABLE streamer_channels ADD COLUMN scheduled boolean NOT NULL DEFAULT false`.execute(db);
  await sql`UPDATE streamer_channels c SET scheduled = true WHERE EXISTS (SELECT 1 FROM probe_schedule p WHERE p.channel_id = c.id)`.execute(db);
  await sql`CREATE INDEX streamer_channels_unscheduled ON streamer_channels (id) WHERE NOT scheduled`.execute(db);
  // Losing a schedule row (an operator deleting it) puts the channel back in line for seeding.
  await sql`
    CREATE FUNCTION probe_schedule_unseed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE streamer_channels SET scheduled = false WHERE id = OLD.channel_id;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER probe_schedule_unseed AFTER DELETE ON probe_schedule
    FOR EACH ROW EXECUTE FUNCTION probe_schedule_unseed()`.execute(db);
  // The claim rewrites claimed_until/claimed_by, none of them indexed: with room left on each page the
  // new row versions stay on the page (HOT) and no index is touched. Applies to pages written from now.
  await sql`ALTER TABLE probe_schedule SET (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE probe_schedule RESET (fillfactor)`.execute(db);
  await sql`DROP TRIGGER probe_schedule_unseed ON probe_schedule`.execute(db);
  await sql`DROP FUNCTION probe_schedule_unseed()`.execute(db);
  await sql`DROP INDEX streamer_channels_unscheduled`.execute(db);
  await sql`ALTER TABLE streamer_channels DROP COLUMN scheduled`.execute(db);
}
