import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per UTC day and channel (streamer_channels.id), upserted by the summary job so a rerun or a
  // backfill overwrites instead of adding. No foreign key: a summary is history and outlives the channel
  // (and the probes, which retention drops after 90 days). `source` says which engine aggregated it.
  await sql`
    CREATE TABLE daily_summaries (
      day             date          NOT NULL,
      channel_id      bigint        NOT NULL,
      viewer_hours    numeric(12,4) NOT NULL,
      live_minutes    integer       NOT NULL,
      streams         integer       NOT NULL,
      peak_viewers    integer       NOT NULL,
      avg_viewers     numeric(12,2) NOT NULL,
      chat_messages   integer       NOT NULL,
      unique_chatters integer       NOT NULL,
      computed_at     timestamptz   NOT NULL,
      source          text          NOT NULL CHECK (source IN ('postgres', 'clickhouse')),
      PRIMARY KEY (day, channel_id)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE daily_summaries`.execute(db);
}
