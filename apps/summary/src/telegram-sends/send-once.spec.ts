import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTelegramNotifier, NotifierError } from '@onair/notifier';
import { startFakeTelegram, type FakeTelegram } from '@onair/notifier/testing';
import { idSetKey, sendOnce, type SendOnceDeps } from './send-once';
import { releaseUnknownSends } from './sql/telegram-sends';

/**
 * sendOnce against real Postgres and the local Telegram-speaking server. Each "worker" has its own
 * notifier, as separate processes would: nothing in memory is shared, only the telegram_sends rows.
 */
const NOW = new Date('2026-11-23T00:05:30Z');
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let telegram: FakeTelegram;
const registry = new Registry();
const lines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });

function worker(name: string, options: { chatId?: string; timeoutMs?: number } = {}): SendOnceDeps {
  return {
    db: handle.db,
    notifier: createTelegramNotifier({
      apiBase: telegram.apiBase,
      botToken: telegram.token,
      chatId: options.chatId ?? telegram.chatId,
      maxRetries: 2,
      timeoutMs: options.timeoutMs ?? 5_000,
      sleep: async () => undefined,
    }),
    worker: name,
    now: () => NOW,
    logger,
    registry,
  };
}

const rows = async (periodKey: string) =>
  (await sql<{ state: string; worker: string; message_ids: string[]; sent_at: Date | null; error: string | null }>`
    SELECT state, worker, message_ids, sent_at, error FROM telegram_sends WHERE period_key = ${periodKey} ORDER BY id`.execute(handle.db)).rows;
const sentFor = (periodKey: string) => telegram.messages.filter((m) => m.text.includes(periodKey));
const counted = async (outcome: string) =>
  (await registry.getSingleMetric('telegram_sends_total')!.get()).values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;

beforeAll(async () => {
  testDb = await createTestDatabase('summary_send_once');
  handle = createDb({ url: testDb.url, poolMax: 6 });
  await migrateToLatest(handle.db, NOW);
  telegram = await startFakeTelegram();
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
  await telegram?.close();
});

const request = (periodKey: string, messageKey = idSetKey([1, 2])) => ({ kind: 'daily-summary', periodKey, messageKey, text: `Daily summary ${periodKey}` });

describe('sendOnce', () => {
  it('sends once when the run is repeated by another worker, and records the message ids', async () => {
    const first = await sendOnce(worker('a'), request('p-repeat'));
    expect(first).toMatchObject({ outcome: 'sent', messageIds: [expect.any(Number)] });
    const again = await sendOnce(worker('b'), request('p-repeat'));
    expect(again).toEqual({ outcome: 'already_sent', id: first.id, messageIds: (first as { messageIds: number[] }).messageIds });
    expect(sentFor('p-repeat')).toHaveLength(1);
    expect(await rows('p-repeat')).toEqual([
      { state: 'sent', worker: 'a', message_ids: (first as { messageIds: number[] }).messageIds.map(String), sent_at: NOW, error: null },
    ]);
  });

  it('sends once when two workers run the same day at the same time', async () => {
    const results = await Promise.all([sendOnce(worker('a'), request('p-race')), sendOnce(worker('b'), request('p-race'))]);
    expect(sentFor('p-race')).toHaveLength(1);
    // The loser saw the winner's claim: either already sent, or (inside the window) unknown; never a second send.
    expect(results.map((r) => r.outcome).sort()).toEqual(expect.arrayContaining(['sent']));
    expect((await rows('p-race'))[0]!.state).toBe('sent');
  });

  it('a claim left by a worker that died is marked unknown, counted and logged, and nothing is sent', async () => {
    await sql`
      INSERT INTO telegram_sends (kind, period_key, chat_id, message_key, state, claim, worker, text_sha256, started_at, updated_at)
      VALUES ('daily-summary', 'p-dead', ${telegram.chatId}, ${idSetKey([1, 2])}, 'sending', 'dead-claim', 'dead-worker', 'x',
              '2026-11-23T00:05:00Z', '2026-11-23T00:05:00Z')`.execute(handle.db);
    const before = await counted('unknown');
    const result = await sendOnce(worker('b'), request('p-dead'));
    expect(result).toMatchObject({ outcome: 'unknown', reason: expect.stringContaining('dead-worker') });
    expect(sentFor('p-dead')).toHaveLength(0);
    const [row] = await rows('p-dead');
    expect(row).toMatchObject({ state: 'unknown', worker: 'dead-worker', sent_at: null, error: expect.stringContaining('never recorded') });
    expect(await counted('unknown')).toBe(before + 1);
    expect(lines.some((l) => l.includes('"level":40') && l.includes('p-dead') && l.includes('may or may not have been sent'))).toBe(true);
    // A later attempt leaves it alone and does not count it twice.
    expect(await sendOnce(worker('c'), request('p-dead'))).toMatchObject({ outcome: 'unknown' });
    expect(await counted('unknown')).toBe(before + 1);
    expect(sentFor('p-dead')).toHaveLength(0);
  });

  it('a send Telegram refused is recorded failed and sent by the next attempt', async () => {
    const chat = '-1009990001';
    const refused = await sendOnce(worker('a', { chatId: chat }), request('p-refused')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotifierError);
    expect(await rows('p-refused')).toEqual([expect.objectContaining({ state: 'failed', error: expect.stringContaining('chat not found') })]);
    telegram.addChat(chat);
    expect(await sendOnce(worker('b', { chatId: chat }), request('p-refused'))).toMatchObject({ outcome: 'sent' });
    expect(await rows('p-refused')).toEqual([expect.objectContaining({ state: 'sent', worker: 'b', error: null })]);
    expect(sentFor('p-refused')).toHaveLength(1);
  });

  it('a send that timed out is not retried: it may be in the chat, so it is unknown', async () => {
    telegram.failNext(1, 'timeout');
    const result = await sendOnce(worker('a', { timeoutMs: 200 }), request('p-timeout'));
    expect(result).toMatchObject({ outcome: 'unknown', reason: expect.stringContaining('not retried (at most once)') });
    expect(telegram.requests.filter((r) => r.status === 'timeout')).toHaveLength(1);
    expect(await rows('p-timeout')).toEqual([expect.objectContaining({ state: 'unknown', sent_at: null })]);
    expect(await sendOnce(worker('b'), request('p-timeout'))).toMatchObject({ outcome: 'unknown' });
    expect(sentFor('p-timeout')).toHaveLength(0);
  });

  it('an operator can release an unknown send, and the next send posts it', async () => {
    telegram.failNext(1, 'reset');
    expect(await sendOnce(worker('a'), request('p-release'))).toMatchObject({ outcome: 'unknown' });
    expect(await releaseUnknownSends(handle.db, { kind: 'daily-summary', periodKey: 'p-release', chatId: telegram.chatId }, { reason: 'not in the chat', at: NOW }))
      .toHaveLength(1);
    expect(await rows('p-release')).toEqual([expect.objectContaining({ state: 'failed', error: expect.stringContaining('released by an operator: not in the chat') })]);
    expect(await sendOnce(worker('b'), request('p-release'))).toMatchObject({ outcome: 'sent' });
    expect(sentFor('p-release')).toHaveLength(1);
    // Nothing left to release: a sent message is never released.
    expect(await releaseUnknownSends(handle.db, { kind: 'daily-summary', periodKey: 'p-release', chatId: telegram.chatId }, { reason: 'again', at: NOW })).toEqual([]);
  });

  it('another channel set is another message', async () => {
    await sendOnce(worker('a'), request('p-sets', idSetKey([2, 1, 2])));
    expect(await sendOnce(worker('a'), request('p-sets', idSetKey([1, 2])))).toMatchObject({ outcome: 'already_sent' });
    expect(await sendOnce(worker('a'), request('p-sets', idSetKey([1, 2, 3])))).toMatchObject({ outcome: 'sent' });
    expect(sentFor('p-sets')).toHaveLength(2);
  });
});
