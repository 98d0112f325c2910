import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Gifts a channel received on the day (first-party and Kick's, refunded ones left out) and their coins.
  // Defaults of 0: rows computed before gifts existed stay valid, and a recompute fills them in.
  await sql`
    ALTER TABLE daily_summaries
      ADD COLUMN gifts      integer NOT NULL DEFAULT 0,
      ADD COLUMN gift_coins bigint  NOT NULL DEFAULT 0`.execute(db);
  // The summary reads one day of gifts across every channel: gifts_channel_day leads with the channel.
  await sql`CREATE INDEX gifts_day ON gifts (day)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX gifts_day`.execute(db);
  await sql`ALTER TABLE daily_summaries DROP COLUMN gifts, DROP COLUMN gift_coins`.execute(db);
}
