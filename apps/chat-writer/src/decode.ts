import { ChatMessage, compileValidator } from '@onair/contracts';
import type { ChatRow } from '@onair/database';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';

const validator = compileValidator(ChatMessage);

/** A row with the stream message it came from, so a row the database refuses can be dead-lettered. */
export interface DecodedRow {
  msg: JsMsg;
  row: ChatRow;
}

/** Turns a batch of chat stream messages into rows; invalid messages are dead-lettered and left out. */
export async function decodeChatBatch(batch: JsMsg[], context: BatchContext): Promise<DecodedRow[]> {
  return (await decodeBatch(batch, validator, context, 'ChatMessage')).map(({ msg, value }) => ({
    msg,
    row: {
      platform: value.platform,
      messageId: value.messageId,
      channelId: value.channelId,
      senderId: value.senderId,
      // Postgres text cannot hold NUL; it carries no meaning in chat, so it is dropped rather than the row.
      senderUsername: stripNul(value.senderUsername),
      content: stripNul(value.content),
      sentAt: canonicalTime(value.sentAt),
      receivedAt: canonicalTime(value.receivedAt),
      repliesTo: value.repliesTo ?? null,
      streamSeq: msg.info.streamSequence,
    },
  }));
}

const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** UTC with milliseconds, the form ingest writes; other valid ISO forms (offsets) are converted. */
function canonicalTime(iso: string): string {
  return CANONICAL_TIME.test(iso) ? iso : new Date(iso).toISOString();
}

function stripNul(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
}
