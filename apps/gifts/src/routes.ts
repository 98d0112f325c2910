import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { compileValidator, parseRoomId } from '@onair/contracts';
import { authenticateSession, HttpError, MAX_SAFE_ID, requireBearer, type RateLimiter } from '@onair/service-kit';
import type { SessionKeys } from '@onair/session';
import { balanceOf, checkLedger, grant, purchase, refund, sendGift, type GiftOutcome, type Refusal } from './ledger';
import type { GiftOutbox } from './outbox';

export interface RoutesOptions {
  db: Kysely<any>;
  outbox: GiftOutbox;
  session: SessionKeys;
  adminToken: string;
  /** HMAC-SHA256 secret of the payment provider's webhooks; absent: the webhook answers 503. */
  paymentWebhookSecret?: string;
  /** Gifts one user may send in a burst / per second after. */
  rateLimiter: RateLimiter;
  /** The platform's share of a gift, in basis points. */
  feeBps: number;
  now: () => number;
}

const KEY = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });
const RoomParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 64 }) });
const SendBody = Type.Object(
  { giftId: Type.String({ minLength: 1, maxLength: 64 }), quantity: Type.Integer({ minimum: 1, maximum: 1000 }), idempotencyKey: KEY },
  { additionalProperties: false },
);
const GrantBody = Type.Object({ amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), idempotencyKey: KEY }, { additionalProperties: false });
const UserParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }) });
const GiftParams = Type.Object({ giftId: Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID }) });
const CatalogParams = Type.Object({ giftId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_-]+$' }) });
const CatalogBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }), priceCoins: Type.Integer({ minimum: 1, maximum: 1_000_000 }), active: Type.Boolean() },
  { additionalProperties: false },
);
const GiftingBody = Type.Object({ open: Type.Boolean() }, { additionalProperties: false });
const PaymentEvent = Type.Object({
  id: KEY,
  type: Type.String({ maxLength: 64 }),
  data: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 128 }), coins: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }) }),
});

/** HTTP status of each refusal: the sender is told at once and for good (a retry gets the same answer). */
const REFUSALS: Record<Refusal, [number, string]> = {
  insufficient_funds: [402, 'Not enough coins for this gift'],
  unknown_gift: [404, 'No such gift in the catalog'],
  room_closed: [409, 'This room takes no gifts now'],
  invalid_quantity: [422, 'Quantity out of range'],
};

export function registerRoutes(app: FastifyInstance, options: RoutesOptions): void {
  const authenticate = (request: FastifyRequest) => authenticateSession(request.headers.authorization, options.session, options.now());
  const firstPartyRoom = (roomId: string) => {
    const room = parseRoomId(roomId);
    if (!room || room.platform !== 'onair') throw new HttpError(400, 'invalid_room_id', 'Gifts go to first-party rooms: 1-64 of A-Z a-z 0-9 _ -');
    return room.channelId;
  };
  const answer = (outcome: GiftOutcome) => {
    if (outcome.status === 'sent') return outcome;
    const [status, message] = REFUSALS[outcome.reason];
    throw new HttpError(status, outcome.reason, message, outcome.balance !== undefined ? { headers: { 'x-balance': String(outcome.balance) } } : {});
  };

  // ---- viewers (session token)
  app.post<{ Params: Static<typeof RoomParams>; Body: Static<typeof SendBody> }>(
    '/v1/rooms/:roomId/gifts',
    { schema: { params: RoomParams, body: SendBody } },
    async (request, reply) => {
      const user = authenticate(request);
      const roomId = firstPartyRoom(request.params.roomId);
      const wait = options.rateLimiter.take(user.id, options.now());
      if (wait > 0) throw new HttpError(429, 'rate_limited', 'Too many gifts; slow down', { headers: { 'retry-after': String(wait) } });
      const outcome = await sendGift(options.db, {
        roomId,
        senderId: user.id,
        senderName: user.name,
        giftId: request.body.giftId,
        quantity: request.body.quantity,
        idempotencyKey: request.body.idempotencyKey,
        at: new Date(options.now()),
        feeBps: options.feeBps,
      });
      // Published right after the answer (the sender does not wait on NATS); if NATS is down, or this process
      // dies first, the outbox sweep sends it.
      if (outcome.status === 'sent') void options.outbox.publishGift(outcome.giftId).catch(() => undefined);
      return reply.code(outcome.status === 'sent' ? 201 : 200).send(answer(outcome));
    },
  );

  app.get('/v1/wallet', async (request) => {
    const user = authenticate(request);
    return { userId: user.id, balance: await balanceOf(options.db, user.id) };
  });

  app.get('/v1/catalog', async () => {
    const { rows } = await sql<{ id: string; name: string; price_coins: number }>`SELECT id, name, price_coins FROM gift_catalog WHERE active ORDER BY price_coins, id`.execute(options.db);
    return { gifts: rows.map((r) => ({ id: r.id, name: r.name, priceCoins: r.price_coins })) };
  });

  // The room's owner opens or closes it to gifts (and becomes their recipient).
  app.put<{ Params: Static<typeof RoomParams>; Body: Static<typeof GiftingBody> }>(
    '/v1/rooms/:roomId/gifting',
    { schema: { params: RoomParams, body: GiftingBody } },
    async (request) => {
      const user = authenticate(request);
      const roomId = firstPartyRoom(request.params.roomId);
      if (!user.ownsRooms.includes(roomId)) throw new HttpError(403, 'forbidden', 'Only the room owner can open it to gifts');
      await sql`
        INSERT INTO gift_rooms (room_id, owner_id, open) VALUES (${roomId}, ${user.id}, ${request.body.open})
        ON CONFLICT (room_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, open = EXCLUDED.open, updated_at = now()`.execute(options.db);
      return { roomId, open: request.body.open, ownerId: user.id };
    },
  );

  // ---- the payment provider (HMAC over the raw body; its event id is the idempotency key)
  void app.register(async (payments) => {
    // The signature covers the exact bytes: keep the body raw here and parse it after the check.
    payments.removeAllContentTypeParsers();
    payments.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    payments.post('/v1/payments/webhook', async (request, reply) => {
      if (!options.paymentWebhookSecret) throw new HttpError(503, 'payments_not_configured', 'PAYMENT_WEBHOOK_SECRET is not set');
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const given = /^sha256=([0-9a-f]{64})$/.exec(String(request.headers['x-signature'] ?? ''))?.[1];
      const expected = createHmac('sha256', options.paymentWebhookSecret).update(raw).digest();
      if (!given || !timingSafeEqual(Buffer.from(given, 'hex'), expected)) throw new HttpError(401, 'invalid_signature', 'X-Signature does not match the body');
      let event: unknown;
      try {
        event = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
      }
      if (!paymentValidator.check(event)) throw new HttpError(422, 'validation_failed', 'Not a payment event');
      if (event.type !== 'payment.succeeded') return reply.code(202).send({ accepted: true, ignored: true });
      const outcome = await purchase(options.db, event.data.userId, event.data.coins, event.id);
      return reply.code(202).send({ accepted: true, ...outcome });
    });
  });

  // ---- operators (ADMIN_TOKEN)
  void app.register(async (admin) => {
    admin.addHook('onRequest', requireBearer(options.adminToken));
    admin.post<{ Params: Static<typeof UserParams>; Body: Static<typeof GrantBody> }>(
      '/v1/wallets/:userId/grants',
      { schema: { params: UserParams, body: GrantBody } },
      async (request) => grant(options.db, request.params.userId, request.body.amount, request.body.idempotencyKey),
    );
    admin.get<{ Params: Static<typeof UserParams> }>('/v1/wallets/:userId', { schema: { params: UserParams } }, async (request) => ({
      userId: request.params.userId,
      balance: await balanceOf(options.db, request.params.userId),
    }));
    admin.post<{ Params: Static<typeof GiftParams> }>('/v1/gifts/:giftId/refund', { schema: { params: GiftParams } }, async (request) => {
      const outcome = await refund(options.db, request.params.giftId);
      if (outcome.status === 'refused') throw new HttpError(outcome.reason === 'unknown_gift' ? 404 : 409, outcome.reason, 'The gift cannot be refunded');
      return outcome;
    });
    admin.put<{ Params: Static<typeof CatalogParams>; Body: Static<typeof CatalogBody> }>(
      '/v1/catalog/:giftId',
      { schema: { params: CatalogParams, body: CatalogBody } },
      async (request) => {
        const { name, priceCoins, active } = request.body;
        await sql`
          INSERT INTO gift_catalog (id, name, price_coins, active) VALUES (${request.params.giftId}, ${name}, ${priceCoins}, ${active})
          ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, price_coins = EXCLUDED.price_coins, active = EXCLUDED.active`.execute(options.db);
        return { id: request.params.giftId, name, priceCoins, active };
      },
    );
    admin.get('/v1/ledger/check', async () => {
      const check = await checkLedger(options.db);
      return { ok: check.total === 0 && check.unbalancedTxns.length === 0 && check.walletMismatches.length === 0, ...check };
    });
  });
}

const paymentValidator = compileValidator(PaymentEvent);
