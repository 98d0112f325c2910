import { sql, type Kysely } from 'kysely';
import type { PlatformEvent, Topology } from '@onair/contracts';
import { publishStored, type Messaging } from '@onair/messaging';
import type { Counter } from 'prom-client';

/** The event type of a first-party gift on the events stream (the gateway shows it as `gift`). */
export const GIFT_EVENT = 'gift.sent';

interface GiftRow {
  id: string;
  platform: string;
  channel_id: string;
  sender_id: string;
  sender_name: string;
  recipient_id: string;
  gift_id: string;
  gift_name: string;
  quantity: number;
  coins: string;
  sent_at: Date;
}

/**
 * A committed gift always reaches its room: the gift row is written in the transaction that moves the coins,
 * with `published_at` empty; after the commit it is published to the events stream (msgID `gift:<id>`, so a
 * re-publish is stored once) and marked. What a crash or a NATS outage leaves unpublished, `sweep()` sends.
 */
export function createGiftOutbox(deps: { db: Kysely<any>; messaging: Messaging; topology: Topology; publishTimeoutMs: number; published: Counter<'path'> }) {
  async function publish(rows: GiftRow[], path: 'direct' | 'sweep'): Promise<void> {
    for (const g of rows) {
      const event: PlatformEvent = {
        platform: g.platform as PlatformEvent['platform'],
        eventId: `gift-${g.id}`,
        type: GIFT_EVENT,
        channelId: g.channel_id,
        receivedAt: g.sent_at.toISOString(),
        data: {
          giftId: Number(g.id),
          sender: { id: g.sender_id, username: g.sender_name },
          recipient: { id: g.recipient_id },
          gift: { id: g.gift_id, name: g.gift_name, amount: Number(g.coins), quantity: g.quantity },
        },
      };
      const subject = deps.topology.events.subject(event.platform, event.channelId, GIFT_EVENT);
      await publishStored(deps.messaging, subject, JSON.stringify(event), `gift:${g.id}`, deps.publishTimeoutMs);
      await sql`UPDATE gifts SET published_at = now() WHERE id = ${g.id} AND published_at IS NULL`.execute(deps.db);
      deps.published.labels(path).inc();
    }
  }
  const select = (where: ReturnType<typeof sql>) => sql<GiftRow>`
    SELECT id, platform, channel_id, sender_id, sender_name, recipient_id, gift_id, gift_name, quantity, coins, sent_at
    FROM gifts WHERE published_at IS NULL AND ${where} ORDER BY id LIMIT 500`;
  return {
    /** Right after a gift's commit. */
    async publishGift(giftId: number): Promise<void> {
      await publish((await select(sql`id = ${giftId}`).execute(deps.db)).rows, 'direct');
    },
    /** Gifts committed more than `graceS` ago and not yet published (their process died, or NATS was down). */
    async sweep(graceS = 2): Promise<number> {
      const { rows } = await select(sql`sent_at < now() - make_interval(secs => ${graceS})`).execute(deps.db);
      await publish(rows, 'sweep');
      return rows.length;
    },
  };
}

export type GiftOutbox = ReturnType<typeof createGiftOutbox>;
