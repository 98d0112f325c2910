import type { Kysely } from 'kysely';
import { compileValidator, PlatformEvent } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';
import { recordGift } from './ledger';

const validator = compileValidator(PlatformEvent);

interface KicksGifted {
  broadcaster: { user_id: number; username?: string | null };
  sender: { user_id: number | null; username: string | null; is_anonymous?: boolean };
  gift: { amount: number; name: string; type?: string };
  created_at?: string;
}

/**
 * Kick's `kicks.gifted` events go into the same gifts table as first-party gifts: platform gifts (no wallet
 * moves), once per Kick event id, counted in the room's leaderboards and the daily summaries. Kick's own event
 * already reaches the room page (the gateway shows it as `gift`), so these are not published again.
 */
export function createKickGiftsHandler(deps: { db: Kysely<any> }) {
  return async function handle(batch: JsMsg[], context: BatchContext): Promise<void> {
    for (const { value } of await decodeBatch(batch, validator, context, 'PlatformEvent')) {
      if (value.platform !== 'kick' || value.type !== 'kicks.gifted') continue;
      const data = value.data as KicksGifted;
      const anonymous = data.sender.is_anonymous || data.sender.user_id === null;
      await recordGift(deps.db, {
        platform: 'kick',
        channelId: value.channelId,
        txnId: null,
        externalId: value.eventId,
        senderId: anonymous ? 'anonymous' : String(data.sender.user_id),
        senderName: anonymous ? 'anonymous' : (data.sender.username ?? String(data.sender.user_id)),
        recipientId: String(data.broadcaster.user_id),
        giftId: data.gift.type ?? 'kicks',
        giftName: data.gift.name,
        quantity: 1,
        coins: data.gift.amount,
        at: new Date(data.created_at && !Number.isNaN(Date.parse(data.created_at)) ? data.created_at : value.receivedAt),
        published: true,
      });
    }
  };
}
