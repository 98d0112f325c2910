import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per channel and UTC day: the first probe of the day records what the platform says about
  // the channel's audience. Kick's public API has no follower count or channel creation date yet
  // (KickDevDocs issues #122, #366), so `followers` stays NULL until it does.
  await sql`
    CREATE TABLE channel_daily_stats (
      channel_id         bigint      NOT NULL REFERENCES streamer_channels (id) ON DELETE CASCADE,
      day                date        NOT NULL,
      active_subscribers integer,
      followers          integer,
      polled_at          timestamptz NOT NULL,
      PRIMARY KEY (channel_id, day)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE channel_daily_stats`.execute(db);
}
