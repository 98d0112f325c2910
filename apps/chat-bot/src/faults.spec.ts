import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { chat, publishChat, publishEvent, streamStarted } from './testing/fixtures';

/**
 * Two bot processes share the consumer; one is SIGKILLed in the middle of a burst of commands. Whatever it
 * had in hand is redelivered to the other (after the ack wait) or was committed already: every command is
 * decided once, every clip exists once and its clip.created event is stored once.
 */
const T0 = Date.UTC(2026, 10, 23, 20, 0, 0);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const COMMANDS = 800;

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let common: Record<string, string>;
const procs: SpawnedService[] = [];

beforeAll(async () => {
  env = await createTestTopology('chat-bot-faults');
  testDb = await createTestDatabase('chat_bot_faults');
  db = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(db.db, new Date(T0));
  common = {
    NATS_NAMESPACE: env.topology.namespace,
    DATABASE_URL: testDb.url,
    ADMIN_TOKEN: 'chat-bot-faults-admin-token-0123456789',
    SESSION_JWT_SECRET: 'chat-bot-faults-session-secret-0123456789',
    LOG_LEVEL: 'warn',
    // Small batches so the killed replica holds work in several stages (deciding, delivering, acking).
    BOT_BATCH_MAX: '20',
    OUTBOX_SWEEP_MS: '1000',
  };
  for (let i = 0; i < 2; i++) procs.push(await spawnService({ main, env: common, port: await freePortForTests() }));
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  await env?.cleanup();
  await db?.close();
  await testDb?.drop();
});

describe('a bot replica killed mid-burst', () => {
  it('loses no clip and doubles none', async () => {
    await publishEvent(env.messaging, env.topology, streamStarted('42', T0));
    const commands = Array.from({ length: COMMANDS }, (_, i) => chat('42', `k-${i}`, `viewer-${i}`, `!clip ${5 + (i % 100)}`, T0 + 1_000 + i));
    const publishing = publishChat(env.messaging, env.topology, commands, '', 50);
    await waitFor(
      async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM clips`.execute(db.db)).rows[0]!.n,
      (n) => n >= COMMANDS / 5,
      { what: 'a fifth of the burst decided' },
    );
    await procs[0]!.kill('SIGKILL');
    await publishing;
    // A new replica joins, as a restarted pod would.
    procs[0] = await spawnService({ main, env: common, port: await freePortForTests() });

    const decided = await waitFor(
      async () => (await sql<{ n: number; distinct_messages: number }>`SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS distinct_messages FROM clips`.execute(db.db)).rows[0]!,
      (r) => r.n >= COMMANDS,
      { what: 'every command decided', timeoutMs: 120_000 },
    );
    expect(decided).toEqual({ n: COMMANDS, distinct_messages: COMMANDS });
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bot_commands WHERE outcome = 'created'`.execute(db.db);
    expect(rows[0]!.n).toBe(COMMANDS);
    // Every clip's event is stored once: the outbox sweep delivers what the killed replica committed but never sent.
    const subject = env.topology.events.subject('kick', '42', 'clip.created');
    const events = await waitFor(
      async () => (await env.messaging.jsm.streams.info(env.topology.events.stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0,
      (n) => n >= COMMANDS,
      { what: 'every clip.created stored', timeoutMs: 60_000 },
    );
    expect(events).toBe(COMMANDS);
    const unpublished = await sql<{ n: number }>`SELECT count(*)::int AS n FROM clips WHERE published_at IS NULL`.execute(db.db);
    expect(unpublished.rows[0]!.n).toBe(0);
  });
});
