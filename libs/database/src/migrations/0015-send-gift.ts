import { sql, type Kysely } from 'kysely';

/**
 * A gift in one round trip. The gifts service's send was ~14 statements (claim, catalog, room, fold, debit,
 * entries, gift, leaderboards, answer), each a round trip: at saturation its own CPU and the waits between
 * statements, not locks, were the limit (bench:gifts). The same steps, in the same order and with the same
 * locks, run here inside Postgres. The outcome is the JSON the API answers with; a refusal moves nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION send_gift(
      p_scope text, p_key text, p_room text, p_sender text, p_sender_name text,
      p_gift text, p_quantity integer, p_at timestamptz, p_fee_bps integer
    ) RETURNS jsonb LANGUAGE plpgsql AS $$
    DECLARE
      v_txn bigint;
      v_outcome jsonb;
      v_name text;
      v_price integer;
      v_owner text;
      v_coins bigint;
      v_fee bigint;
      v_balance bigint;
      v_credit bigint;
      v_sender text := 'user:' || p_sender;
      v_stream bigint;
      v_day date := (p_at AT TIME ZONE 'UTC')::date;
      v_gift bigint;
    BEGIN
      -- Once per (scope, key) for ever: a twin waits on the unique index and then reads the first answer.
      INSERT INTO ledger_txns (kind, scope, idempotency_key) VALUES ('gift', p_scope, p_key)
      ON CONFLICT (scope, idempotency_key) DO NOTHING RETURNING id INTO v_txn;
      IF v_txn IS NULL THEN
        SELECT outcome INTO v_outcome FROM ledger_txns WHERE scope = p_scope AND idempotency_key = p_key;
        RETURN v_outcome;
      END IF;

      SELECT name, price_coins INTO v_name, v_price FROM gift_catalog WHERE id = p_gift AND active;
      IF v_name IS NULL THEN
        v_outcome := jsonb_build_object('status', 'refused', 'reason', 'unknown_gift');
      ELSE
        SELECT owner_id INTO v_owner FROM gift_rooms WHERE room_id = p_room AND open;
        IF v_owner IS NULL OR v_owner = p_sender THEN
          v_outcome := jsonb_build_object('status', 'refused', 'reason', 'room_closed');
        END IF;
      END IF;

      IF v_outcome IS NULL THEN
        v_coins := v_price::bigint * p_quantity;
        -- The sender's own unfolded credits join its wallet first (its row locked from here to the commit).
        WITH unfolded AS (
          UPDATE ledger_entries SET folded = true WHERE account = v_sender AND NOT folded RETURNING amount
        )
        SELECT coalesce(sum(amount), 0) INTO v_credit FROM unfolded;
        INSERT INTO wallets (account, balance) VALUES (v_sender, v_credit)
        ON CONFLICT (account) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = now();
        UPDATE wallets SET balance = balance - v_coins, updated_at = now()
        WHERE account = v_sender AND balance >= v_coins RETURNING balance INTO v_balance;
        IF v_balance IS NULL THEN
          SELECT balance INTO v_balance FROM wallets WHERE account = v_sender;
          v_outcome := jsonb_build_object('status', 'refused', 'reason', 'insufficient_funds', 'balance', v_balance);
        END IF;
      END IF;

      IF v_outcome IS NULL THEN
        v_fee := (v_coins * p_fee_bps) / 10000;
        INSERT INTO ledger_entries (txn_id, account, amount, folded)
        SELECT v_txn, a, m, f FROM (VALUES
          (v_sender, -v_coins, true),
          ('user:' || v_owner, v_coins - v_fee, false),
          ('platform:fees', v_fee, false)
        ) AS e(a, m, f) WHERE m <> 0;
        SELECT id INTO v_stream FROM live_streams
        WHERE platform = 'onair' AND channel_id = p_room AND started_at <= p_at AND (ended_at IS NULL OR ended_at >= p_at)
        ORDER BY started_at DESC LIMIT 1;
        INSERT INTO gifts (platform, channel_id, txn_id, sender_id, sender_name, recipient_id, gift_id, gift_name, quantity, coins, day, stream_key, sent_at)
        VALUES ('onair', p_room, v_txn, p_sender, p_sender_name, v_owner, p_gift, v_name, p_quantity, v_coins, v_day,
                CASE WHEN v_stream IS NULL THEN NULL ELSE 'stream:' || v_stream END, p_at)
        RETURNING id INTO v_gift;
        INSERT INTO gift_leaderboard (platform, channel_id, period, sender_id, sender_name, coins, gifts)
        SELECT 'onair', p_room, period, p_sender, p_sender_name, v_coins, 1
        FROM unnest(ARRAY['day:' || to_char(v_day, 'YYYY-MM-DD')] || CASE WHEN v_stream IS NULL THEN ARRAY[]::text[] ELSE ARRAY['stream:' || v_stream] END) AS period
        ON CONFLICT (platform, channel_id, period, sender_id)
        DO UPDATE SET coins = gift_leaderboard.coins + EXCLUDED.coins, gifts = gift_leaderboard.gifts + 1, sender_name = EXCLUDED.sender_name;
        v_outcome := jsonb_build_object('status', 'sent', 'giftId', v_gift, 'coins', v_coins, 'balance', v_balance);
      END IF;

      UPDATE ledger_txns SET outcome = v_outcome WHERE id = v_txn;
      RETURN v_outcome;
    END;
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION send_gift(text, text, text, text, text, text, integer, timestamptz, integer)`.execute(db);
}
