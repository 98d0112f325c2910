import { sql, type Kysely } from 'kysely';

export interface GiftDayAggregate {
  /** `streamer_channels.id`. */
  channelId: number;
  /** Gifts received (a send of several of one gift is one gift). */
  gifts: number;
  /** Their coins. */
  giftCoins: number;
}

/**
 * One UTC day's gifts per channel, from Postgres `gifts` (the one place they are kept: first-party gifts and
 * Kick's `kicks.gifted`), by the gift's own `day`. Channels are mapped as chat is, through `streamer_channels
 * (platform, platform_user_id)`; gifts of a room no streamer owns are left out. A refunded gift (its refund
 * transaction `refunds` / `gift:<id>` settled as refunded) does not count.
 */
export async function postgresGiftDay(db: Kysely<any>, day: string): Promise<GiftDayAggregate[]> {
  const { rows } = await sql<{ channel_id: string; gifts: number; coins: string }>`
    SELECT c.id AS channel_id, count(*)::int AS gifts, sum(g.coins)::text AS coins
    FROM gifts g
    JOIN streamer_channels c ON c.platform = g.platform AND c.platform_user_id = g.channel_id
    WHERE g.day = ${day}::date
      AND NOT EXISTS (
        SELECT 1 FROM ledger_txns t
        WHERE t.scope = 'refunds' AND t.idempotency_key = 'gift:' || g.id AND t.outcome ->> 'status' = 'refunded')
    GROUP BY c.id
    ORDER BY c.id`.execute(db);
  return rows.map((r) => ({ channelId: Number(r.channel_id), gifts: r.gifts, giftCoins: Number(r.coins) }));
}
