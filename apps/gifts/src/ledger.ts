import { sql, type Kysely, type Transaction } from 'kysely';

/**
 * The coin ledger. Every movement is a transaction (`ledger_txns`) whose entries sum to zero; a transaction is
 * unique per (scope, idempotency key) for ever, and keeps the answer it gave (`outcome`), which a retry gets
 * again. Accounts: `user:<id>`, `platform:fees`, and the outside world's `external:mint` (operator grants) and
 * `external:payments` (purchases), which have no wallet (they are where coins come from).
 *
 * Balances: `wallets.balance` holds the folded part; credits to a gift's recipient (and the platform's fee)
 * are appended unfolded, so a hot room's owner is not a row every gift in it waits for; `foldCredits()` adds
 * them to the wallets in batches. A user's balance is its wallet plus its unfolded credits. A sender's debit is
 * a conditional UPDATE of its own wallet (its own unfolded credits folded first, in the same transaction): the
 * CHECK (balance >= 0) and the condition keep it from going below zero under any concurrency.
 */

export const userAccount = (userId: string) => `user:${userId}`;
export const FEES_ACCOUNT = 'platform:fees';
const MINT = 'external:mint';
const PAYMENTS = 'external:payments';

export type Refusal = 'insufficient_funds' | 'unknown_gift' | 'room_closed' | 'invalid_quantity';

export type GiftOutcome =
  | { status: 'sent'; giftId: number; coins: number; balance: number }
  | { status: 'refused'; reason: Refusal; balance?: number };

export interface GiftRequest {
  roomId: string;
  senderId: string;
  senderName: string;
  giftId: string;
  quantity: number;
  idempotencyKey: string;
  /** When the gift was sent (the server's clock at the request): its day and stream. */
  at: Date;
  /** The platform's share of each gift, in basis points (e.g. 2000 = 20 %). */
  feeBps: number;
}

type Db = Kysely<any>;
type Trx = Transaction<any>;

/** Claims (scope, key): the new transaction's id, or the earlier one's stored outcome. */
async function claim<T>(trx: Trx, kind: string, scope: string, key: string): Promise<{ id: number } | { outcome: T }> {
  const inserted = await sql<{ id: string }>`
    INSERT INTO ledger_txns (kind, scope, idempotency_key) VALUES (${kind}, ${scope}, ${key})
    ON CONFLICT (scope, idempotency_key) DO NOTHING RETURNING id`.execute(trx);
  if (inserted.rows[0]) return { id: Number(inserted.rows[0].id) };
  // A concurrent twin waited on the unique index until the first committed: its outcome is there now.
  const { rows } = await sql<{ outcome: T }>`SELECT outcome FROM ledger_txns WHERE scope = ${scope} AND idempotency_key = ${key}`.execute(trx);
  return { outcome: rows[0]!.outcome };
}

async function settle(trx: Trx, txnId: number, outcome: unknown): Promise<void> {
  await sql`UPDATE ledger_txns SET outcome = ${JSON.stringify(outcome)}::jsonb WHERE id = ${txnId}`.execute(trx);
}

async function entries(trx: Trx, txnId: number, rows: Array<{ account: string; amount: number; folded: boolean }>): Promise<void> {
  const kept = rows.filter((r) => r.amount !== 0);
  await sql`
    INSERT INTO ledger_entries (txn_id, account, amount, folded)
    SELECT ${txnId}, * FROM unnest(${kept.map((r) => r.account)}::text[], ${kept.map((r) => r.amount)}::bigint[], ${kept.map((r) => r.folded)}::bool[])`.execute(trx);
}

/**
 * Takes `amount` from an account's wallet if it (with its unfolded credits) holds that much; returns the
 * balance after, or undefined (nothing changed) when it does not.
 */
async function debit(trx: Trx, account: string, amount: number): Promise<number | undefined> {
  const { rows } = await sql<{ balance: string }>`
    WITH unfolded AS (
      UPDATE ledger_entries SET folded = true WHERE account = ${account} AND NOT folded RETURNING amount
    ), owed AS (SELECT coalesce(sum(amount), 0) AS credit FROM unfolded)
    INSERT INTO wallets (account, balance) SELECT ${account}, owed.credit FROM owed
    ON CONFLICT (account) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
    RETURNING balance`.execute(trx);
  const before = Number(rows[0]!.balance);
  if (before < amount) return undefined;
  const after = await sql<{ balance: string }>`
    UPDATE wallets SET balance = balance - ${amount}, updated_at = now() WHERE account = ${account} AND balance >= ${amount}
    RETURNING balance`.execute(trx);
  return after.rows[0] ? Number(after.rows[0].balance) : undefined;
}

async function credit(trx: Trx, account: string, amount: number): Promise<number> {
  const { rows } = await sql<{ balance: string }>`
    INSERT INTO wallets (account, balance) VALUES (${account}, ${amount})
    ON CONFLICT (account) DO UPDATE SET balance = wallets.balance + ${amount}, updated_at = now()
    RETURNING balance`.execute(trx);
  return Number(rows[0]!.balance);
}

/** A user's balance: the wallet plus unfolded credits. */
export async function balanceOf(db: Db, userId: string): Promise<number> {
  const account = userAccount(userId);
  const { rows } = await sql<{ balance: string }>`
    SELECT coalesce((SELECT balance FROM wallets WHERE account = ${account}), 0)
         + coalesce((SELECT sum(amount) FROM ledger_entries WHERE account = ${account} AND NOT folded), 0) AS balance`.execute(db);
  return Number(rows[0]!.balance);
}

/**
 * Sends a gift: at most once per (sender, idempotency key) for ever. Sent: the sender is debited, the
 * recipient (the room's owner) and the platform's fee credited (unfolded), the gift recorded with its
 * leaderboard rows and left for the outbox to publish. Refused: recorded as the answer, nothing moves.
 * One round trip: the steps run inside Postgres (`send_gift`, migration 0015), in one transaction.
 */
export async function sendGift(db: Db, request: GiftRequest): Promise<GiftOutcome> {
  const { rows } = await sql<{ outcome: GiftOutcome }>`
    SELECT send_gift(${userAccount(request.senderId)}, ${request.idempotencyKey}, ${request.roomId}, ${request.senderId}, ${request.senderName},
                     ${request.giftId}, ${request.quantity}, ${request.at}, ${request.feeBps}) AS outcome`.execute(db);
  return rows[0]!.outcome;
}

export interface GiftRecord {
  platform: string;
  channelId: string;
  txnId: number | null;
  /** A platform's own id of the gift (Kick's event id): recorded once per id. */
  externalId: string | null;
  senderId: string;
  senderName: string;
  recipientId: string;
  giftId: string;
  giftName: string;
  quantity: number;
  coins: number;
  at: Date;
  /** Already shown in the room by its platform's own event (Kick): nothing to publish. */
  published: boolean;
}

/**
 * Records a gift and moves the room's leaderboards (the day's, and the stream's when one is on air); returns
 * its id, or undefined when a platform gift with this external id was recorded before.
 */
export async function recordGift(trx: Db | Trx, g: GiftRecord): Promise<number | undefined> {
  const day = g.at.toISOString().slice(0, 10);
  const stream = (
    await sql<{ id: string }>`
      SELECT id FROM live_streams WHERE platform = ${g.platform} AND channel_id = ${g.channelId}
        AND started_at <= ${g.at} AND (ended_at IS NULL OR ended_at >= ${g.at})
      ORDER BY started_at DESC LIMIT 1`.execute(trx)
  ).rows[0];
  const streamKey = stream ? `stream:${stream.id}` : null;
  const inserted = await sql<{ id: string }>`
    INSERT INTO gifts (platform, channel_id, txn_id, external_id, sender_id, sender_name, recipient_id, gift_id, gift_name, quantity, coins, day, stream_key, sent_at, published_at)
    VALUES (${g.platform}, ${g.channelId}, ${g.txnId}, ${g.externalId}, ${g.senderId}, ${g.senderName}, ${g.recipientId}, ${g.giftId}, ${g.giftName},
            ${g.quantity}, ${g.coins}, ${day}, ${streamKey}, ${g.at}, ${g.published ? g.at : null})
    ON CONFLICT (platform, external_id) DO NOTHING RETURNING id`.execute(trx);
  if (!inserted.rows[0]) return undefined;
  for (const period of [`day:${day}`, ...(streamKey ? [streamKey] : [])]) {
    await sql`
      INSERT INTO gift_leaderboard (platform, channel_id, period, sender_id, sender_name, coins, gifts)
      VALUES (${g.platform}, ${g.channelId}, ${period}, ${g.senderId}, ${g.senderName}, ${g.coins}, 1)
      ON CONFLICT (platform, channel_id, period, sender_id)
      DO UPDATE SET coins = gift_leaderboard.coins + EXCLUDED.coins, gifts = gift_leaderboard.gifts + 1, sender_name = EXCLUDED.sender_name`.execute(trx);
  }
  return Number(inserted.rows[0].id);
}

export type CreditOutcome = { status: 'credited'; balance: number };

/** An operator's grant, once per key: coins from the mint into the user's wallet. */
export async function grant(db: Db, userId: string, amount: number, key: string): Promise<CreditOutcome> {
  return creditFrom(db, 'grant', `grant:${userId}`, key, MINT, userId, amount);
}

/** A payment provider's purchase, once per provider event id: coins from payments into the user's wallet. */
export async function purchase(db: Db, userId: string, amount: number, eventId: string): Promise<CreditOutcome> {
  return creditFrom(db, 'purchase', 'payments', eventId, PAYMENTS, userId, amount);
}

async function creditFrom(db: Db, kind: string, scope: string, key: string, source: string, userId: string, amount: number): Promise<CreditOutcome> {
  return db.transaction().execute(async (trx) => {
    const claimed = await claim<CreditOutcome>(trx, kind, scope, key);
    if ('outcome' in claimed) return claimed.outcome;
    const account = userAccount(userId);
    await entries(trx, claimed.id, [
      { account: source, amount: -amount, folded: true },
      { account, amount, folded: true },
    ]);
    const outcome: CreditOutcome = { status: 'credited', balance: await credit(trx, account, amount) + (await unfoldedOf(trx, account)) };
    await settle(trx, claimed.id, outcome);
    return outcome;
  });
}

async function unfoldedOf(trx: Trx, account: string): Promise<number> {
  const { rows } = await sql<{ s: string | null }>`SELECT sum(amount) AS s FROM ledger_entries WHERE account = ${account} AND NOT folded`.execute(trx);
  return Number(rows[0]!.s ?? 0);
}

export type RefundOutcome = { status: 'refunded'; senderBalance: number } | { status: 'refused'; reason: 'unknown_gift' | 'not_refundable' | 'insufficient_funds' };

/** An operator's refund of a first-party gift, once per gift: the entries reversed (recipient and fee debited). */
export async function refund(db: Db, giftId: number): Promise<RefundOutcome> {
  return db.transaction().execute(async (trx) => {
    const claimed = await claim<RefundOutcome>(trx, 'refund', 'refunds', `gift:${giftId}`);
    if ('outcome' in claimed) return claimed.outcome;
    const done = async (outcome: RefundOutcome) => {
      await settle(trx, claimed.id, outcome);
      return outcome;
    };
    const gift = (await sql<{ txn_id: string | null }>`SELECT txn_id FROM gifts WHERE id = ${giftId}`.execute(trx)).rows[0];
    if (!gift) return done({ status: 'refused', reason: 'unknown_gift' });
    if (gift.txn_id === null) return done({ status: 'refused', reason: 'not_refundable' });
    const original = (await sql<{ account: string; amount: string }>`SELECT account, amount FROM ledger_entries WHERE txn_id = ${gift.txn_id}`.execute(trx)).rows;
    // Debit those who were credited (their unfolded credits fold first); refuse if one has spent it.
    for (const e of original.filter((r) => Number(r.amount) > 0)) {
      if ((await debit(trx, e.account, Number(e.amount))) === undefined) {
        throw new RefundRefused();
      }
    }
    let senderBalance = 0;
    for (const e of original.filter((r) => Number(r.amount) < 0)) senderBalance = await credit(trx, e.account, -Number(e.amount));
    await entries(trx, claimed.id, original.map((e) => ({ account: e.account, amount: -Number(e.amount), folded: true })));
    return done({ status: 'refunded', senderBalance });
  }).catch(async (error: unknown) => {
    if (!(error instanceof RefundRefused)) throw error;
    // Rolled back: recorded as refused in its own transaction, so the answer is the same next time.
    return db.transaction().execute(async (trx) => {
      const claimed = await claim<RefundOutcome>(trx, 'refund', 'refunds', `gift:${giftId}`);
      if ('outcome' in claimed) return claimed.outcome;
      const outcome: RefundOutcome = { status: 'refused', reason: 'insufficient_funds' };
      await settle(trx, claimed.id, outcome);
      return outcome;
    });
  });
}

class RefundRefused extends Error {}

/**
 * Adds unfolded credits to their wallets, up to `batch` entries at a time, skipping entries a sender's
 * transaction holds right now. Returns how many it folded.
 */
export async function foldCredits(db: Db, batch = 5_000): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    WITH picked AS (
      SELECT id FROM ledger_entries WHERE NOT folded ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE ledger_entries e SET folded = true FROM picked WHERE e.id = picked.id RETURNING e.account, e.amount
    ), summed AS (
      SELECT account, sum(amount) AS amount, count(*) AS n FROM moved GROUP BY account
    ), applied AS (
      -- Runs whether or not the query below reads it (a data-modifying WITH always runs once).
      INSERT INTO wallets (account, balance) SELECT account, amount FROM summed
      ON CONFLICT (account) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now()
    )
    SELECT coalesce(sum(n), 0) AS n FROM summed`.execute(db);
  return Number(rows[0]!.n);
}

/** What the ledger check finds: any of these non-zero or non-empty is a bug. */
export interface LedgerCheck {
  /** Sum of every entry (must be 0). */
  total: number;
  /** Transactions whose entries do not sum to zero. */
  unbalancedTxns: number[];
  /** Wallets whose balance plus unfolded credits differs from the sum of their account's entries. */
  walletMismatches: Array<{ account: string; wallet: number; ledger: number }>;
}

/** Rebuilds every balance from the ledger and compares. */
export async function checkLedger(db: Db): Promise<LedgerCheck> {
  const total = Number((await sql<{ s: string | null }>`SELECT sum(amount) AS s FROM ledger_entries`.execute(db)).rows[0]!.s ?? 0);
  const unbalanced = await sql<{ txn_id: string }>`SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING sum(amount) <> 0`.execute(db);
  const mismatches = await sql<{ account: string; wallet: string; ledger: string }>`
    WITH ledger AS (SELECT account, sum(amount) AS total, sum(amount) FILTER (WHERE NOT folded) AS unfolded FROM ledger_entries GROUP BY account)
    SELECT coalesce(l.account, w.account) AS account, coalesce(w.balance, 0) + coalesce(l.unfolded, 0) AS wallet, coalesce(l.total, 0) AS ledger
    FROM ledger l FULL JOIN wallets w ON w.account = l.account
    WHERE coalesce(l.account, w.account) NOT LIKE 'external:%'
      AND coalesce(w.balance, 0) + coalesce(l.unfolded, 0) <> coalesce(l.total, 0)`.execute(db);
  return {
    total,
    unbalancedTxns: unbalanced.rows.map((r) => Number(r.txn_id)),
    walletMismatches: mismatches.rows.map((r) => ({ account: r.account, wallet: Number(r.wallet), ledger: Number(r.ledger) })),
  };
}
