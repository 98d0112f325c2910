import type { ColumnType } from 'kysely';

/** Row of `chat_messages`, range-partitioned by month on `sent_at`. */
export interface ChatMessagesTable {
  platform: string;
  message_id: string;
  channel_id: string;
  sender_id: string;
  sender_username: string;
  content: string;
  sent_at: ColumnType<Date, Date | string, never>;
  received_at: ColumnType<Date, Date | string, never>;
  replies_to: string | null;
}

/** The kysely view of the whole database. */
export interface Database {
  chat_messages: ChatMessagesTable;
  kysely_migration: { name: string; timestamp: string };
}
