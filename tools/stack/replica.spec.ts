import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { waitFor } from '@onair/service-kit/testing';
import { chatMessage, publishChat } from '../../apps/chat-writer/src/testing/chat-fixtures';

/**
 * `npm run replica` for real: two chat-writer replicas started by the script (as a developer would start a
 * second and a third next to `nx serve`) on a throwaway namespace and database, sharing one durable consumer.
 */
const REPLICA_MJS = fileURLToPath(new URL('./replica.mjs', import.meta.url));
const CHAT_WRITER_PORT = 8085;
const MESSAGES = 3000;

interface Replica {
  index: number;
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
const replicas: Replica[] = [];

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** Replica indexes whose ports (8085 + 100 × n) are free now, away from the dev stack's own. */
async function freeIndexes(count: number): Promise<number[]> {
  const found: number[] = [];
  for (let n = 20 + Math.floor(Math.random() * 400); found.length < count && n < 570; n++) {
    if (await portFree(CHAT_WRITER_PORT + 100 * n)) found.push(n);
  }
  return found;
}

function startReplica(index: number): Replica {
  const child = spawn(process.execPath, [REPLICA_MJS, 'chat-writer', String(index)], {
    env: {
      ...process.env,
      NATS_NAMESPACE: env.topology.namespace,
      DATABASE_URL: testDb.url,
      CLICKHOUSE_URL: '', // Postgres only: this is about sharing a consumer, not about ClickHouse
      CHAT_BATCH_MAX: '20', // small pulls, so that both replicas get some of the burst
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (c: Buffer) => (output = (output + c.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const replica = { index, port: CHAT_WRITER_PORT + 100 * index, child, output: () => output, exited };
  replicas.push(replica);
  return replica;
}

async function status(port: number, path: string): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

/** Rows this replica wrote to Postgres, from its own /metrics. */
async function rowsWritten(port: number): Promise<number> {
  const metrics = (await status(port, '/metrics'))?.body ?? '';
  const line = metrics.split('\n').find((l) => l.startsWith('chat_rows_written_total{') && l.includes('sink="postgres"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  env = await createTestTopology('tools-replica');
  testDb = await createTestDatabase('tools_replica');
});

afterAll(async () => {
  for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await db?.close();
  await env?.cleanup();
  await testDb?.drop();
});

describe('npm run replica', () => {
  it('refuses an unknown service and a port out of range', async () => {
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [REPLICA_MJS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
        child.once('exit', (code) => resolve({ code, output }));
      });
    expect(await run('no-such-service')).toMatchObject({ code: 2, output: expect.stringContaining('usage: npm run replica') });
    expect(await run('chat-writer', '700')).toMatchObject({ code: 2, output: expect.stringContaining('out of range') });
  });

  it('runs more chat-writer replicas that all become ready and share the durable consumer', async () => {
    const [a, b] = await freeIndexes(2);
    expect(b, 'two free replica ports').toBeDefined();
    const first = startReplica(a!);
    const second = startReplica(b!);
    for (const r of [first, second]) {
      await waitFor(() => status(r.port, '/readyz'), (s) => s?.status === 200, {
        timeoutMs: 90_000,
        what: `replica ${r.index} ready on ${r.port}; output:\n${r.output()}`,
      });
      expect(r.output()).toContain(`[replica] chat-writer #${r.index} on http://127.0.0.1:${r.port} (REPLICA_ID=chat-writer-${r.index}, NATS_NAMESPACE=${env.topology.namespace}`);
    }
    // A third start of an index already running fails at once, naming the port.
    const again = startReplica(a!);
    expect(await again.exited).toBe(1);
    expect(again.output()).toContain(`127.0.0.1:${first.port} is taken`);

    // One durable consumer, pulled from by both processes.
    const consumer = await env.messaging.jsm.consumers.info(env.topology.chat.stream, 'chat-writer-pg');
    expect(consumer.config.durable_name).toBe('chat-writer-pg');

    for (let round = 0; round < 6; round++) {
      const from = (round * MESSAGES) / 6;
      await publishChat(env.messaging, env.topology, Array.from({ length: MESSAGES / 6 }, (_, i) => chatMessage(from + i)), 50);
    }
    db = createDb({ url: testDb.url, poolMax: 2 });
    await waitFor(
      async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM chat_messages`.execute(db.db)).rows[0]!.n,
      (n) => n === MESSAGES,
      { what: `${MESSAGES} rows in Postgres` },
    );
    const written = [await rowsWritten(first.port), await rowsWritten(second.port)];
    expect(written[0]! + written[1]!).toBe(MESSAGES);
    expect(written[0], `replica ${a} wrote ${written[0]}, replica ${b} ${written[1]}`).toBeGreaterThan(0);
    expect(written[1], `replica ${a} wrote ${written[0]}, replica ${b} ${written[1]}`).toBeGreaterThan(0);
    expect((await env.messaging.jsm.consumers.info(env.topology.chat.stream, 'chat-writer-pg')).num_pending).toBe(0);

    // SIGTERM to the script reaches the service, which drains and exits 0; the script exits with its code.
    for (const r of [first, second]) r.child.kill('SIGTERM');
    expect(await Promise.all([first.exited, second.exited])).toEqual([0, 0]);
    expect([await portFree(first.port), await portFree(second.port)]).toEqual([true, true]);
  });
});
