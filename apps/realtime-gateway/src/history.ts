import { sql, type Kysely } from 'kysely';
import { compileValidator, ChatMessage, type Topology } from '@onair/contracts';
import type { Messaging } from '@onair/messaging';
import type { ChatItem } from './chat-fanout';

const validator = compileValidator(ChatMessage);

/**
 * The room's chat after stream sequence `after`, oldest first: from the chat stream while it still
 * holds that sequence (one direct read per message, by subject), from Postgres once it has aged out
 * (chat-writer stores each row's stream sequence). A client pages with `next` until `items` is empty.
 */
export async function roomHistory(
  deps: { messaging: Messaging; topology: Topology; db: Kysely<any> },
  room: { platform: string; channelId: string },
  after: number,
  limit: number,
): Promise<{ items: ChatItem[]; next: number; source: 'stream' | 'history' }> {
  const stream = deps.topology.chat.stream;
  const { state } = await deps.messaging.jsm.streams.info(stream);
  const items: ChatItem[] = [];
  if (after + 1 >= state.first_seq) {
    const subject = deps.topology.chat.subject(room.platform, room.channelId);
    let cursor = after + 1;
    while (items.length < limit) {
      // next_by_subj: the first message on this room's subject at or after `cursor`.
      const stored = await deps.messaging.jsm.streams.getMessage(stream, { seq: cursor, next_by_subj: subject } as unknown as { seq: number });
      if (!stored) break;
      cursor = stored.seq + 1;
      const value: unknown = stored.json();
      if (!validator.check(value)) continue;
      items.push({
        seq: stored.seq,
        id: value.messageId,
        platform: value.platform,
        sender: { id: value.senderId, name: value.senderUsername },
        content: value.content,
        sentAt: value.sentAt,
      });
    }
    return { items, next: items.at(-1)?.seq ?? after, source: 'stream' };
  }
  const { rows } = await sql<{ stream_seq: number; message_id: string; sender_id: string; sender_username: string; content: string; sent_at: Date }>`
    SELECT stream_seq, message_id, sender_id, sender_username, content, sent_at
    FROM chat_messages
    WHERE platform = ${room.platform} AND channel_id = ${room.channelId} AND stream_seq > ${after}
    ORDER BY stream_seq
    LIMIT ${limit}`.execute(deps.db);
  for (const r of rows) {
    items.push({
      seq: Number(r.stream_seq),
      id: r.message_id,
      platform: room.platform,
      sender: { id: r.sender_id, name: r.sender_username },
      content: r.content,
      sentAt: r.sent_at.toISOString(),
    });
  }
  return { items, next: items.at(-1)?.seq ?? after, source: 'history' };
}
