import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The chat stream sequence of each message: a client that missed messages asks for those after the
  // last sequence it saw, and once they have aged out of the stream, Postgres answers by it.
  await sql`ALTER TABLE chat_messages ADD COLUMN stream_seq bigint`.execute(db);
  await sql`CREATE INDEX chat_messages_channel_seq ON chat_messages (platform, channel_id, stream_seq)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX chat_messages_channel_seq`.execute(db);
  await sql`ALTER TABLE chat_messages DROP COLUMN stream_seq`.execute(db);
}
