import { sql, type Kysely } from 'kysely';
import type { ChatRow } from '../chat-row';

/**
 * Inserts a batch in one statement and one round trip: each column travels as one array parameter and
 * `unnest` zips them back into rows, so the parameter count stays 10 whatever the batch size. Rows already
 * stored (a redelivery) are skipped. Returns how many rows were new.
 */
export async function insertChatMessages(db: Kysely<any>, rows: readonly ChatRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof ChatRow>(key: K) => rows.map((r) => r[key]);
  const result = await sql`
    INSERT INTO chat_messages
      (platform, message_id, channel_id, sender_id, sender_username, content, sent_at, received_at, replies_to, stream_seq)
    SELECT * FROM unnest(
      ${col('platform')}::text[], ${col('messageId')}::text[], ${col('channelId')}::text[],
      ${col('senderId')}::text[], ${col('senderUsername')}::text[], ${col('content')}::text[],
      ${col('sentAt')}::timestamptz[], ${col('receivedAt')}::timestamptz[], ${col('repliesTo')}::text[],
      ${rows.map((r) => r.streamSeq ?? null)}::bigint[])
    ON CONFLICT DO NOTHING`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
