import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { connectAnalytics, dropAnalyticsDatabase, type Analytics } from '@onair/analytics';
import { uuidV7 } from '@onair/contracts';
import { createDb, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology, startNatsCluster, type NatsCluster } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';

/**
 * Chaos: NATS that survives a lost node. Three nats-server processes on loopback form a JetStream cluster
 * with every stream at three replicas; ingest and two chat-writers run as real processes given all three
 * URLs. During a burst of first-party room messages over HTTP the chat stream's leader is killed with
 * SIGKILL; once ingest stores again the killed node is started, and later the new leader is restarted
 * (killed and started at once) for a second election. Every message is sent until ingest answers 202
 * (a 503 is retried after its Retry-After with the same id, as a client does). Then every message answered
 * 202 is exactly one row in Postgres and in ClickHouse (read through FINAL, in a throwaway database), and
 * ingest only ever answered 202 or 503 + Retry-After.
 *
 * `npm run chaos` runs this file; `CHAOS_MESSAGES` and `CHAOS_RATE` (messages/s offered) change the burst.
 */
const MESSAGES = Number(process.env['CHAOS_MESSAGES'] ?? 20_000);
const RATE = Number(process.env['CHAOS_RATE'] ?? 1_000);
/** Requests in flight at most: past it the offered rate waits for answers. */
const IN_FLIGHT = 64;
const USERS = 40;
const ROOMS = 10;
const SESSION_SECRET = 'chaos-session-secret-0123456789abcdefghij';
const SESSION = testSessionKeys(SESSION_SECRET);
const CLICKHOUSE_URL = process.env['CLICKHOUSE_URL'] || 'http://127.0.0.1:8123';
const CH_DATABASE = 'onair_test_e2e_chaos';
const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));

let cluster: NatsCluster;
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let analytics: Analytics;
const procs: SpawnedService[] = [];
let ingestPort: number;

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  env = await createTestTopology('e2e-chaos', { url: cluster.urls, limits: { replicas: 3 } });
  testDb = await createTestDatabase('e2e_chaos');
  await dropAnalyticsDatabase(CLICKHOUSE_URL, CH_DATABASE);
  const common = {
    NATS_URL: cluster.urls.join(','),
    NATS_STREAM_REPLICAS: '3',
    NATS_NAMESPACE: env.topology.namespace,
    // The streams exist already at the test's sizes; the services keep them (same limits as createTestTopology's).
    CHAT_MAX_BYTES: String(256 * 1024 ** 2),
    DATABASE_URL: testDb.url,
    CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: CH_DATABASE,
    LOG_LEVEL: 'warn',
  };
  ingestPort = await freePortForTests();
  // One at a time: tsx compilations at once starve a two-core machine past the start timeout.
  procs.push(
    await spawnService({
      main: app('ingest'),
      port: ingestPort,
      startTimeoutMs: 60_000,
      env: {
        ...common,
        SESSION_JWT_SECRET: SESSION_SECRET,
        KICK_PUBLIC_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        ROOM_RATE_BURST: '1000000',
        ROOM_RATE_PER_S: '1000000',
      },
    }),
  );
  for (let i = 0; i < 2; i++) {
    procs.push(await spawnService({ main: app('chat-writer'), port: await freePortForTests(), startTimeoutMs: 60_000, env: common }));
  }
  db = createDb({ url: testDb.url, poolMax: 2 });
  analytics = await connectAnalytics({ url: CLICKHOUSE_URL, database: CH_DATABASE });
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  await db?.close();
  await analytics?.close();
  await dropAnalyticsDatabase(CLICKHOUSE_URL, CH_DATABASE);
  await env?.messaging.drain().catch(() => undefined);
  await cluster?.stop();
  await testDb?.drop();
});

interface Outcome {
  i: number;
  status: number;
  /** When the request went out and when its answer came, ms since the epoch. */
  sentAt: number;
  at: number;
  retryAfter?: string | null;
  duplicate?: boolean;
}

describe('NATS cluster chaos', () => {
  it(`loses no message answered 202 when the chat leader is killed during a ${MESSAGES}-message burst`, async () => {
    const tokens = Array.from({ length: USERS }, (_, i) => signSessionToken({ id: `u${i}`, name: `User ${i}` }, SESSION));
    const messages = Array.from({ length: MESSAGES }, (_, i) => ({
      user: i % USERS,
      room: `chaos-${i % ROOMS}`,
      clientId: uuidV7(Date.now()),
      content: `chaos ${i}`,
    }));
    const rowId = (i: number) => `u${messages[i]!.user}:${messages[i]!.clientId}`;

    const outcomes: Outcome[] = [];
    const other: string[] = [];
    const accepted = new Set<number>();
    const post = async (i: number): Promise<Outcome> => {
      const m = messages[i]!;
      const sentAt = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/rooms/${m.room}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[m.user]}` },
          body: JSON.stringify({ messageId: m.clientId, content: m.content }),
        });
        const body = (await res.json()) as { duplicate?: boolean };
        return { i, status: res.status, sentAt, at: Date.now(), retryAfter: res.headers.get('retry-after'), duplicate: body.duplicate === true };
      } catch (error) {
        other.push(`#${i}: ${(error as Error).message}`);
        return { i, status: 0, sentAt, at: Date.now() };
      }
    };

    // The chaos, driven by how far the burst has come.
    const events: { what: string; at: number }[] = [];
    const mark = (what: string) => events.push({ what, at: Date.now() });
    const stream = env.topology.chat.stream;
    const leaderOf = async () => (await env.messaging.jsm.streams.info(stream)).cluster?.leader;
    // A request sent before the kill may still be answered 202 just after it (its PubAck was on the way):
    // recovery is the first 202 to a request sent after the kill.
    const acceptedAfter = (t: number) => outcomes.find((o) => o.status === 202 && o.sentAt > t)?.at;
    /** New messages offered so far (retries not counted): the chaos keys off it. */
    let offered = 0;
    const chaos = (async () => {
      await waitFor(() => offered, (n) => n >= MESSAGES * 0.2, { timeoutMs: 120_000, intervalMs: 20 });
      const first = (await leaderOf())!;
      await cluster.node(first).kill();
      mark(`killed ${first} (chat leader)`);
      const killedAt = events.at(-1)!.at;
      await waitFor(() => acceptedAfter(killedAt), (t) => t !== undefined, { timeoutMs: 60_000, intervalMs: 20, what: 'a 202 after the kill' });
      await cluster.node(first).start();
      mark(`started ${first}`);
      await waitFor(
        () => env.messaging.jsm.streams.info(stream),
        (info) => (info.cluster?.replicas ?? []).filter((r) => r.current).length === 2,
        { timeoutMs: 60_000, what: 'three current copies again' },
      );
      mark(`${first} current`);
      await waitFor(() => offered, (n) => n >= MESSAGES * 0.6, { timeoutMs: 120_000, intervalMs: 20 });
      const second = (await leaderOf())!;
      await cluster.node(second).kill();
      mark(`killed ${second} (chat leader)`);
      await cluster.node(second).start();
      mark(`started ${second}`);
    })();
    // Awaited after the burst; a failure meanwhile must not surface as an unhandled rejection.
    chaos.catch(() => undefined);

    // The burst: offered at RATE, at most IN_FLIGHT waiting; a 503 goes back in line after its Retry-After.
    const started = Date.now();
    const retries: { i: number; notBefore: number }[] = [];
    const inFlight = new Set<Promise<void>>();
    while (accepted.size < MESSAGES) {
      if (Date.now() - started > 150_000) throw new Error(`burst not done after 150 s: ${accepted.size} accepted`);
      if (inFlight.size >= IN_FLIGHT) {
        await Promise.race(inFlight);
        continue;
      }
      const retry = retries.findIndex((r) => r.notBefore <= Date.now());
      let i: number;
      if (retry >= 0) i = retries.splice(retry, 1)[0]!.i;
      else if (offered < MESSAGES && Date.now() - started >= (offered * 1000) / RATE) i = offered++;
      else {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const work: Promise<void> = post(i).then((outcome) => {
        outcomes.push(outcome);
        if (outcome.status === 202) accepted.add(i);
        else retries.push({ i, notBefore: Date.now() + Number(outcome.retryAfter ?? 1) * 1000 });
        inFlight.delete(work);
      });
      inFlight.add(work);
    }
    await Promise.all(inFlight);
    const burstMs = Date.now() - started;
    await chaos;

    // Postgres: every accepted message exactly once, nothing else (both writers share the consumer).
    const expected = new Set(Array.from({ length: MESSAGES }, (_, i) => rowId(i)));
    const countRows = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages`.execute(db.db)).rows[0]!.n;
    await waitFor(countRows, (n) => n >= MESSAGES, { timeoutMs: 90_000, intervalMs: 250, what: `${MESSAGES} rows in Postgres` });
    const rows = (await sql<{ message_id: string; n: number }>`SELECT message_id, count(*)::int AS n FROM chat_messages GROUP BY message_id`.execute(db.db)).rows;
    const doubled = rows.filter((r) => r.n !== 1);
    const strangers = rows.filter((r) => !expected.has(r.message_id));
    const stored = new Set(rows.map((r) => r.message_id));
    const missing = [...expected].filter((id) => !stored.has(id)).length;

    // ClickHouse: the same, read through FINAL (a redelivered row collapses there; physical copies are counted too).
    const chCount = async () => {
      const result = await analytics.client.query({
        query: 'SELECT count() AS n, uniqExact(message_id) AS ids FROM chat_messages FINAL',
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ n: string; ids: string }>();
      return { n: Number(row!.n), ids: Number(row!.ids) };
    };
    const ch = await waitFor(chCount, (c) => c.n >= MESSAGES, { timeoutMs: 90_000, intervalMs: 500, what: `${MESSAGES} rows in ClickHouse` });
    const chPhysical = Number(
      (await (await analytics.client.query({ query: 'SELECT count() AS n FROM chat_messages', format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n,
    );
    const chIds = (await (await analytics.client.query({ query: 'SELECT DISTINCT message_id FROM chat_messages', format: 'JSONEachRow' })).json<{ message_id: string }>()).map(
      (r) => r.message_id,
    );
    const chStored = new Set(chIds);
    const chMissing = [...expected].filter((id) => !chStored.has(id)).length;
    const chStrangers = chIds.filter((id) => !expected.has(id)).length;

    // Figures.
    const refusals = outcomes.filter((o) => o.status === 503);
    const killed = events.filter((e) => e.what.startsWith('killed'));
    const windows = killed.map((kill, k) => {
      const end = killed[k + 1]?.at ?? Infinity;
      const inWindow = refusals.filter((o) => o.at >= kill.at && o.at < end);
      const recovered = acceptedAfter(kill.at);
      return {
        event: kill.what,
        refused: inWindow.length,
        messagesRefused: new Set(inWindow.map((o) => o.i)).size,
        firstRefusalMs: inWindow[0] ? inWindow[0].at - kill.at : undefined,
        lastRefusalMs: inWindow.at(-1) ? inWindow.at(-1)!.at - kill.at : undefined,
        windowMs: inWindow.length ? inWindow.at(-1)!.at - inWindow[0]!.at : 0,
        recoveryMs: recovered === undefined ? undefined : recovered - kill.at,
        // Refused once the new leader took publishes: retries crowding in, a node rejoining.
        refusedAfterRecovery: recovered === undefined ? 0 : inWindow.filter((o) => o.at > recovered).length,
      };
    });
    const metrics = await (await fetch(`http://127.0.0.1:${ingestPort}/metrics`)).text();
    const refusedBy = Object.fromEntries(
      [...metrics.matchAll(/^ingest_publish_unavailable_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]),
    );
    const figures = {
      messages: MESSAGES,
      offeredPerS: RATE,
      burstMs,
      requests: outcomes.length,
      answered202: outcomes.filter((o) => o.status === 202).length,
      duplicatesOnRetry: outcomes.filter((o) => o.status === 202 && o.duplicate).length,
      answered503: refusals.length,
      messagesRefusedAtLeastOnce: new Set(refusals.map((o) => o.i)).size,
      ingestRefusedBy: refusedBy,
      timeline: events.map((e) => `+${e.at - started} ms ${e.what}`),
      windows,
      rows: rows.length,
      clickhouse: { final: ch.n, physical: chPhysical },
    };
    console.log(`nats cluster chaos:\n${JSON.stringify(figures, null, 2)}`);

    expect(other).toEqual([]);
    const statuses: Record<number, number> = {};
    for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    expect(statuses).toEqual({ 202: figures.answered202, 503: figures.answered503 });
    expect(refusals.every((o) => o.retryAfter !== null && Number(o.retryAfter) > 0)).toBe(true);
    expect(accepted.size).toBe(MESSAGES);
    expect({ doubled: doubled.length, strangers: strangers.length, missing }).toEqual({ doubled: 0, strangers: 0, missing: 0 });
    expect(rows.length).toBe(MESSAGES);
    expect({ rows: ch.n, ids: ch.ids, missing: chMissing, strangers: chStrangers }).toEqual({ rows: MESSAGES, ids: MESSAGES, missing: 0, strangers: 0 });
    expect(killed.length).toBe(2);
    // The first kill cost an election: ingest refused (503) until a new leader took publishes again.
    expect(windows[0]!.refused).toBeGreaterThan(0);
    expect(windows[0]!.recoveryMs).toBeDefined();
  }, 300_000);
});
