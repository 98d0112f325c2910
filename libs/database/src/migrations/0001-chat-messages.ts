import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The primary key must contain the partition column; (platform, message_id) is the real identity and
  // sent_at never changes for a message, so redeliveries still collide and ON CONFLICT drops them.
  await sql`
    CREATE TABLE chat_messages (
      platform        text        NOT NULL,
      message_id      text        NOT NULL,
      channel_id      text        NOT NULL,
      sender_id       text        NOT NULL,
      sender_username text        NOT NULL,
      content         text        NOT NULL,
      sent_at         timestamptz NOT NULL,
      received_at     timestamptz NOT NULL,
      replies_to      text,
      PRIMARY KEY (platform, message_id, sent_at)
    ) PARTITION BY RANGE (sent_at)`.execute(db);
  // Room history reads (gap recovery, summaries) go by channel and time.
  await sql`CREATE INDEX chat_messages_channel_sent_at ON chat_messages (platform, channel_id, sent_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE chat_messages`.execute(db);
}
