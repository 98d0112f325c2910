/**
 * The naive gift sender, for `bench:gifts`' baseline: one transaction that claims the idempotency key,
 * debits the sender's balance row and credits the recipient's balance row directly (so every gift to a room
 * waits for the room owner's row lock until the gift before it commits), records the gift and its day's
 * leaderboard row. Its own tables (`naive_*`, made by the bench); no fee, no ledger entries, no event publish:
 * less work than the gifts service per gift, so its spread-case figures are a floor. Run as its own process,
 * with the same pool size and session check as the service.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { verifySessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';

const port = Number(process.env['PORT']);
const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'], max: Number(process.env['DB_POOL_MAX'] ?? 8) });
const keys = testSessionKeys(process.env['SESSION_JWT_SECRET']!);
const app = Fastify();

app.post<{ Params: { roomId: string }; Body: { giftId: string; quantity: number; idempotencyKey: string } }>('/v1/rooms/:roomId/gifts', async (request, reply) => {
  const user = verifySessionToken(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')![1]!, keys, Date.now());
  const { giftId, quantity, idempotencyKey } = request.body;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const claimed = await client.query(`INSERT INTO naive_txns (scope, idempotency_key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id`, [user.id, idempotencyKey]);
    if (!claimed.rows[0]) {
      const { rows } = await client.query(`SELECT outcome FROM naive_txns WHERE scope = $1 AND idempotency_key = $2`, [user.id, idempotencyKey]);
      await client.query('COMMIT');
      return reply.code(201).send(rows[0].outcome);
    }
    const gift = (await client.query(`SELECT name, price_coins FROM gift_catalog WHERE id = $1 AND active`, [giftId])).rows[0];
    const room = (await client.query(`SELECT owner_id FROM gift_rooms WHERE room_id = $1 AND open`, [request.params.roomId])).rows[0];
    if (!gift || !room) {
      await client.query('ROLLBACK');
      return reply.code(404).send({ error: { code: 'not_found', message: 'no such gift or room' } });
    }
    const coins = gift.price_coins * quantity;
    const debited = await client.query(`UPDATE naive_wallets SET balance = balance - $2 WHERE account = $1 AND balance >= $2 RETURNING balance`, [user.id, coins]);
    if (!debited.rows[0]) {
      await client.query('ROLLBACK');
      return reply.code(402).send({ error: { code: 'insufficient_funds', message: 'Not enough coins for this gift' } });
    }
    // The hot row: every gift to this room updates the owner's balance in its own transaction.
    await client.query(`UPDATE naive_wallets SET balance = balance + $2 WHERE account = $1`, [room.owner_id, coins]);
    const day = new Date().toISOString().slice(0, 10);
    const inserted = await client.query(
      `INSERT INTO naive_gifts (room_id, sender_id, recipient_id, gift_id, quantity, coins, day) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [request.params.roomId, user.id, room.owner_id, giftId, quantity, coins, day],
    );
    await client.query(
      `INSERT INTO naive_leaderboard (room_id, period, sender_id, coins, gifts) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (room_id, period, sender_id) DO UPDATE SET coins = naive_leaderboard.coins + EXCLUDED.coins, gifts = naive_leaderboard.gifts + 1`,
      [request.params.roomId, `day:${day}`, user.id, coins],
    );
    const outcome = { status: 'sent', giftId: Number(inserted.rows[0].id), coins, balance: Number(debited.rows[0].balance) };
    await client.query(`UPDATE naive_txns SET outcome = $2 WHERE id = $1`, [claimed.rows[0].id, JSON.stringify(outcome)]);
    await client.query('COMMIT');
    return reply.code(201).send(outcome);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => app.close().then(() => pool.end()).then(() => process.exit(0)));
