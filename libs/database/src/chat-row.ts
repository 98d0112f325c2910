/** One chat message as the database lib writes it (camelCase, ISO strings for times). */
export interface ChatRow {
  platform: string;
  messageId: string;
  channelId: string;
  senderId: string;
  senderUsername: string;
  content: string;
  sentAt: string;
  receivedAt: string;
  repliesTo: string | null;
  /** Sequence in the chat stream (null for rows written before it was recorded). */
  streamSeq?: number | null;
}
