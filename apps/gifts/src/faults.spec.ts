import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { checkLedger, foldCredits } from './ledger';

/**
 * The gifts service SIGKILLed in the middle of a 5,000-gift burst. Clients do what they must: a request
 * that got no answer is retried with the same idempotency key. Afterwards the ledger sums to zero, every
 * gift answered "sent" has its entries and its room event, and nothing was charged twice.
 */
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const GIFTS = 5_000;
const SENDERS = 250;
const ADMIN = 'gifts-faults-admin-token-0123456789';
const SESSION = testSessionKeys('gifts-faults-session-secret-0123456789');

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let common: Record<string, string>;
let proc: SpawnedService;
let base: string;

async function start() {
  const port = await freePortForTests();
  proc = await spawnService({ main, env: common, port });
  base = `http://127.0.0.1:${port}`;
}

beforeAll(async () => {
  env = await createTestTopology('gifts-faults');
  testDb = await createTestDatabase('gifts_faults');
  db = createDb({ url: testDb.url, poolMax: 4 });
  // The process migrates at its own start; this is only for the test's handle (no partitioned table is read).
  await migrateToLatest(db.db, new Date(Date.UTC(2026, 10, 23)));
  common = {
    NATS_NAMESPACE: env.topology.namespace,
    DATABASE_URL: testDb.url,
    ADMIN_TOKEN: ADMIN,
    SESSION_JWT_SECRET: SESSION.secret,
    LOG_LEVEL: 'warn',
    GIFT_RATE_BURST: '100000',
    GIFT_RATE_PER_S: '100000',
    OUTBOX_SWEEP_MS: '500',
  };
  await start();
});
afterAll(async () => {
  await proc?.kill('SIGTERM');
  await env?.cleanup();
  await db?.close();
  await testDb?.drop();
});

const post = async (path: string, body: unknown, auth: string) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the gifts service killed mid-burst', () => {
  it('keeps the ledger whole: every sent gift has its entries and its room event, none charged twice', async () => {
    const owner = signSessionToken({ id: 'owner', name: 'Owner', ownsRooms: ['stage'] }, SESSION);
    const opened = await fetch(`${base}/v1/rooms/stage/gifting`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${owner}` }, body: '{"open":true}' });
    expect(opened.status).toBe(200);
    const tokens = Array.from({ length: SENDERS }, (_, i) => signSessionToken({ id: `s${i}`, name: `sender ${i}` }, SESSION));
    // Each sender can afford 15 roses of the 20 they will try: some answers are refusals.
    for (let i = 0; i < SENDERS; i++) expect((await post(`/v1/wallets/s${i}/grants`, { amount: 15, idempotencyKey: 'start' }, ADMIN)).status).toBe(200);

    const answers = new Map<number, { status: number; body: Record<string, unknown> }>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < GIFTS) {
        const i = next++;
        const request = { giftId: 'rose', quantity: 1, idempotencyKey: `gift-${i}` };
        for (;;) {
          try {
            const answer = await post('/v1/rooms/stage/gifts', request, tokens[i % SENDERS]!);
            if (answer.status >= 500) throw new Error(`answered ${answer.status}`);
            answers.set(i, answer);
            break;
          } catch {
            // No answer (the process died) or not ready: the same request again, as a client must.
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        if (!killed && answers.size >= GIFTS / 3) {
          killed = true;
          await proc.kill('SIGKILL');
          await start();
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(killed).toBe(true);
    expect(answers.size).toBe(GIFTS);

    const sent = [...answers.values()].filter((a) => a.status === 201);
    expect(sent.length).toBe(SENDERS * 15);
    expect([...answers.values()].filter((a) => a.status === 402).length).toBe(GIFTS - SENDERS * 15);
    // Nothing charged twice: one gift per key that was answered sent, each sender at zero.
    const gifts = await sql<{ n: number; senders_at_zero: number }>`
      SELECT (SELECT count(*)::int FROM gifts WHERE platform = 'onair') AS n,
             (SELECT count(*)::int FROM wallets WHERE account LIKE 'user:s%' AND balance = 0) AS senders_at_zero`.execute(db.db);
    expect(gifts.rows[0]).toEqual({ n: SENDERS * 15, senders_at_zero: SENDERS });
    const withEntries = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM gifts g WHERE EXISTS (SELECT 1 FROM ledger_entries e WHERE e.txn_id = g.txn_id)`.execute(db.db);
    expect(withEntries.rows[0]!.n).toBe(SENDERS * 15);
    await foldCredits(db.db);
    expect(await checkLedger(db.db)).toEqual({ total: 0, unbalancedTxns: [], walletMismatches: [] });
    // Every sent gift reaches the room: the outbox publishes what the killed process committed but never sent.
    const subject = env.topology.events.subject('onair', 'stage', 'gift.sent');
    const events = await waitFor(
      async () => (await env.messaging.jsm.streams.info(env.topology.events.stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0,
      (n) => n >= SENDERS * 15,
      { what: 'every gift event', timeoutMs: 60_000 },
    );
    expect(events).toBe(SENDERS * 15);
  });
});
