import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createHttpServer, createMetricsRegistry, type HttpServer } from '@onair/service-kit';
import { registerAuditRoute } from './audit-route';
import { createProbeMetrics } from './metrics';

/** The operator-only audit route on a real Postgres: its token, its bounded window, its refusals. */
const TOKEN = 'audit-route-spec-admin-token-0123456789';
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let server: HttpServer;

beforeAll(async () => {
  testDb = await createTestDatabase('probe_audit_route');
  handle = createDb({ url: testDb.url, poolMax: 2 });
  await migrateToLatest(handle.db, new Date('2026-11-23T00:00:00Z'));
  server = createHttpServer({ logger: pino({ level: 'silent' }), registry: createMetricsRegistry('probe-scheduler') });
  registerAuditRoute(server.app, { db: handle.db, adminToken: TOKEN, metrics: createProbeMetrics(new Registry()), now: () => new Date('2026-11-23T12:00:00Z') });
  await server.app.ready();
});
afterAll(async () => {
  await server?.app.close();
  await handle?.close();
  await testDb?.drop();
});

const audit = (query = '', token: string | null = TOKEN) =>
  server.app.inject({ url: `/v1/audit/stream-starts${query}`, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('stream-start audit route', () => {
  it('answers the last 24 h by default, or the window asked for', async () => {
    expect((await audit()).json()).toEqual({ since: '2026-11-22T12:00:00.000Z', channels: [] });
    expect((await audit('?hours=168')).json().since).toBe('2026-11-16T12:00:00.000Z');
  });

  it.each([null, 'wrong', `${TOKEN}x`])('refuses token %j with 401 before reading anything', async (token) => {
    const res = await audit('?hours=1e20', token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'unauthorized', message: 'A valid bearer token is required' } });
  });

  it.each(['?hours=0', '?hours=169', '?hours=1e20', '?hours=Infinity', '?hours=-1', '?hours=1.5', '?hours=abc', '?since=2026-02-30', '?hours=1&x=1'])(
    'answers %s with 400 invalid_query',
    async (query) => {
      const res = await audit(query);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('invalid_query');
    },
  );
});
