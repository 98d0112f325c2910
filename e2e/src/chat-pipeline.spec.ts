import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { connectAnalytics, dropAnalyticsDatabase, type Analytics } from '@onair/analytics';
import { createDb, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { uuidV7 } from '@onair/contracts';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { kickWebhookHeaders } from './kick-webhook';

/**
 * The platform's promise end to end, on real processes: a signed Kick `chat.message.sent` webhook sent
 * over HTTP to ingest becomes one row in Postgres and one in ClickHouse, written by chat-writer.
 */
const CLICKHOUSE_URL = process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123';
const CH_DATABASE = 'onair_test_e2e_chat';
const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let analytics: Analytics;
let ingest: SpawnedService;
let writer: SpawnedService;
let ingestPort: number;
let common: Record<string, string>;
const SESSION = testSessionKeys('e2e-secret-0123456789abcdefghijklmnop');

beforeAll(async () => {
  env = await createTestTopology('e2e-chat');
  testDb = await createTestDatabase('e2e_chat');
  await dropAnalyticsDatabase(CLICKHOUSE_URL, CH_DATABASE);
  common = {
    NATS_NAMESPACE: env.topology.namespace,
    DATABASE_URL: testDb.url,
    CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: CH_DATABASE,
    LOG_LEVEL: 'warn',
  };
  ingestPort = await freePortForTests();
  [ingest, writer] = await Promise.all([
    spawnService({
      main: app('ingest'),
      port: ingestPort,
      env: {
        ...common,
        SESSION_JWT_SECRET: SESSION.secret,
        KICK_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    }),
    spawnService({ main: app('chat-writer'), port: await freePortForTests(), env: common }),
  ]);
  db = createDb({ url: testDb.url, poolMax: 2 });
  analytics = await connectAnalytics({ url: CLICKHOUSE_URL, database: CH_DATABASE });
});

afterAll(async () => {
  await Promise.all([ingest?.kill('SIGTERM'), writer?.kill('SIGTERM')]);
  await db?.close();
  await analytics?.close();
  await env?.cleanup();
  await testDb?.drop();
  await dropAnalyticsDatabase(CLICKHOUSE_URL, CH_DATABASE);
});

describe('chat pipeline', () => {
  it('takes a signed Kick chat webhook over HTTP into Postgres and ClickHouse, once', async () => {
    const messageId = randomUUID();
    const timestamp = new Date().toISOString();
    const body = JSON.stringify({
      message_id: messageId,
      broadcaster: { user_id: 1001, username: 'streamer', channel_slug: 'streamer' },
      sender: { user_id: 2002, username: 'viewer', channel_slug: 'viewer' },
      content: 'end to end',
      emotes: [],
      created_at: timestamp,
    });
    const headers = kickWebhookHeaders(privateKey, { id: `evt-${messageId}`, timestamp, type: 'chat.message.sent', body });
    const first = await fetch(`http://127.0.0.1:${ingestPort}/webhooks/kick`, { method: 'POST', headers, body });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: true, duplicate: false });
    // Kick retries a webhook it thinks failed: the retry is recognised and nothing doubles.
    const retry = await fetch(`http://127.0.0.1:${ingestPort}/webhooks/kick`, { method: 'POST', headers, body });
    expect(await retry.json()).toEqual({ accepted: true, duplicate: true });

    const rows = await waitFor(
      async () => (await sql<{ content: string; channel_id: string }>`SELECT content, channel_id FROM chat_messages WHERE message_id = ${messageId}`.execute(db.db)).rows,
      (r) => r.length > 0,
      { what: 'the row in Postgres' },
    );
    expect(rows).toEqual([{ content: 'end to end', channel_id: '1001' }]);

    const chRows = await waitFor(
      async () => {
        const result = await analytics.client.query({
          query: 'SELECT content, channel_id FROM chat_messages FINAL WHERE message_id = {id:String}',
          query_params: { id: messageId },
          format: 'JSONEachRow',
        });
        return result.json<{ content: string; channel_id: string }>();
      },
      (r) => r.length > 0,
      { what: 'the row in ClickHouse' },
    );
    expect(chRows).toEqual([{ content: 'end to end', channel_id: '1001' }]);
  });

  it('stores a webhook and a room message once when they are replayed while chat-writer is down (killed)', async () => {
    const rowsOf = async (messageId: string) =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages WHERE message_id = ${messageId}`.execute(db.db)).rows[0]!.n;
    const kickId = randomUUID();
    const timestamp = new Date().toISOString();
    const body = JSON.stringify({
      message_id: kickId,
      broadcaster: { user_id: 1001, username: 'streamer' },
      sender: { user_id: 2002, username: 'viewer' },
      content: 'before the crash',
      created_at: timestamp,
    });
    const headers = kickWebhookHeaders(privateKey, { id: `evt-${kickId}`, timestamp, type: 'chat.message.sent', body });
    const sendKick = async () => (await fetch(`http://127.0.0.1:${ingestPort}/webhooks/kick`, { method: 'POST', headers, body })).json();
    expect(await sendKick()).toEqual({ accepted: true, duplicate: false });
    await waitFor(() => rowsOf(kickId), (n) => n === 1, { what: 'the Kick row' });

    await writer.kill('SIGKILL');
    expect(await sendKick()).toEqual({ accepted: true, duplicate: true });
    const token = signSessionToken({ id: 'ada', name: 'Ada' }, SESSION);
    const clientId = uuidV7(Date.now());
    const sendRoom = async () =>
      (
        await fetch(`http://127.0.0.1:${ingestPort}/v1/rooms/lobby/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ messageId: clientId, content: 'while the writer is down' }),
        })
      ).json();
    expect(await sendRoom()).toMatchObject({ accepted: true, duplicate: false });
    expect(await sendRoom()).toMatchObject({ accepted: true, duplicate: true });

    writer = await spawnService({ main: app('chat-writer'), port: await freePortForTests(), env: common });
    await waitFor(() => rowsOf(`ada:${clientId}`), (n) => n > 0, { what: 'the room row' });
    // Caught up: nothing pending or unacknowledged on the Postgres consumer, and still one row each.
    await waitFor(
      async () => (await env.messaging.jsm.consumers.info(env.topology.chat.stream, env.topology.consumers.chatToPostgres)),
      (info) => info.num_pending === 0 && info.num_ack_pending === 0,
      { what: 'chat-writer caught up' },
    );
    expect([await rowsOf(kickId), await rowsOf(`ada:${clientId}`)]).toEqual([1, 1]);
  });
});
