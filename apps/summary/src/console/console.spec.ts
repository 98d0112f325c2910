import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { buildApp, type SummaryService } from '../app';

/**
 * The console's sign-in on real Postgres, through the service as built: an operator token (or
 * ADMIN_TOKEN) becomes an HttpOnly, SameSite=Strict cookie; the cookie reads the API with the operator's
 * scope; writes need the CSRF token; sessions end on sign-out, expiry, a disabled operator and a rotated
 * ADMIN_TOKEN. The clock is injected.
 */
const ADMIN = 'console-spec-admin-token-0123456789abc';
let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
let service: SummaryService;
let clock = new Date('2026-11-23T12:00:00Z');

function build(adminToken: string): SummaryService {
  return buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('summary'),
    messaging: env.messaging,
    topology: env.topology,
    db: handle,
    retentionDays: 90,
    worker: 'console-spec',
    adminToken,
    now: () => clock,
    console: { gatewayUrl: 'http://127.0.0.1:8082', sessionTtlMs: 3_600_000 },
  });
}

beforeAll(async () => {
  env = await createTestTopology('summary-console');
  testDb = await createTestDatabase('summary_console');
  handle = createDb({ url: testDb.url, poolMax: 4 });
  await migrateToLatest(handle.db, clock);
  service = build(ADMIN);
  await service.server.app.ready();
});
afterAll(async () => {
  await service?.server.app.close();
  await env?.cleanup();
  await handle?.close();
  await testDb?.drop();
});

const inject = (options: InjectOptions, app = service) => app.server.app.inject(options);

async function signIn(token: string, app = service) {
  const response = await inject({ method: 'POST', url: '/console/session', payload: { token } }, app);
  const setCookie = String(response.headers['set-cookie'] ?? '');
  return { response, setCookie, cookie: setCookie.split(';')[0]!, body: response.json() as { actor: string; role: string; csrfToken: string; expiresAt: string } };
}

async function createOperator(name: string, role: 'admin' | 'operator') {
  const response = await inject({ method: 'POST', url: '/v1/operators', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name, role } });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: number; token: string };
}

async function addStreamer(name: string, assignedTo: number | null) {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO streamers (display_name, status, created_at, assigned_operator_id) VALUES (${name}, 'active', ${clock}, ${assignedTo}) RETURNING id`.execute(handle.db);
  return Number(rows[0]!.id);
}

describe('console sign-in', () => {
  it('serves the page with a strict CSP and its script', async () => {
    const page = await inject({ method: 'GET', url: '/console' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('"gatewayUrl":"http://127.0.0.1:8082"');
    const script = await inject({ method: 'GET', url: '/console/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.body.length).toBeGreaterThan(10_000);
  });

  it('exchanges an operator token for an HttpOnly SameSite=Strict cookie scoped like the token', async () => {
    const mine = await createOperator('cookie-ann', 'operator');
    const theirs = await createOperator('cookie-bob', 'operator');
    const own = await addStreamer('ann-streamer', mine.id);
    const other = await addStreamer('bob-streamer', theirs.id);

    const { response, setCookie, cookie, body } = await signIn(mine.token);
    expect(response.statusCode).toBe(200);
    expect(setCookie).toMatch(/^onair_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
    expect(body).toMatchObject({ actor: 'cookie-ann', role: 'operator', expiresAt: '2026-11-23T13:00:00.000Z' });
    // Only the cookie's hash is stored.
    const stored = await sql<{ id_sha256: Buffer }>`SELECT id_sha256 FROM console_sessions`.execute(handle.db);
    expect(stored.rows.map((r) => r.id_sha256.toString('base64url'))).not.toContain(cookie.split('=')[1]);

    const who = await inject({ method: 'GET', url: '/console/session', headers: { cookie } });
    expect(who.json()).toEqual({ actor: 'cookie-ann', role: 'operator', csrfToken: body.csrfToken, expiresAt: body.expiresAt });
    const list = await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie } });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { items: Array<{ id: number }> }).items.map((s) => s.id)).toEqual([own]);
    expect((await inject({ method: 'GET', url: `/v1/streamers/${other}`, headers: { cookie } })).statusCode).toBe(404);
    // An operator's cookie is no admin: the audit log stays closed.
    expect((await inject({ method: 'GET', url: '/v1/audit', headers: { cookie } })).statusCode).toBe(403);
  });

  it('refuses a cookie write without the CSRF token, and takes it with the token', async () => {
    const op = await createOperator('csrf-cat', 'operator');
    const id = await addStreamer('cat-streamer', op.id);
    const { cookie, body } = await signIn(op.token);
    const patch = (headers: Record<string, string>) =>
      inject({ method: 'PATCH', url: `/v1/streamers/${id}`, headers: { cookie, ...headers }, payload: { notes: 'from the console' } });

    const wrong: Array<Record<string, string>> = [{}, { 'x-csrf-token': 'not-the-token' }, { 'x-csrf-token': body.csrfToken.slice(0, -1) + (body.csrfToken.endsWith('A') ? 'B' : 'A') }];
    for (const headers of wrong) {
      const refused = await patch(headers);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ error: { code: 'csrf_failed', message: expect.any(String) } });
    }
    expect((await sql<{ notes: string }>`SELECT notes FROM streamers WHERE id = ${id}`.execute(handle.db)).rows[0]!.notes).toBe('');

    const ok = await patch({ 'x-csrf-token': body.csrfToken });
    expect(ok.statusCode).toBe(200);
    const audit = await sql<{ actor: string }>`SELECT actor FROM audit_log WHERE target_type = 'streamer' AND target_id = ${String(id)}`.execute(handle.db);
    expect(audit.rows).toEqual([{ actor: 'csrf-cat' }]);
    // Another session's CSRF token does not fit this cookie.
    const second = await signIn(op.token);
    expect((await patch({ 'x-csrf-token': second.body.csrfToken })).statusCode).toBe(403);
  });

  it('refuses bad tokens with 401 and nothing stored', async () => {
    const before = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM console_sessions`.execute(handle.db)).rows[0]!.n;
    for (const token of ['nope', 'onair_op_' + 'x'.repeat(43), `${ADMIN}x`]) {
      const { response, setCookie } = await signIn(token);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(setCookie).toBe('');
    }
    expect((await inject({ method: 'POST', url: '/console/session', payload: { token: '' } })).statusCode).toBe(422);
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM console_sessions`.execute(handle.db)).rows[0]!.n).toBe(before);
    // A forged or unknown cookie is no session.
    for (const cookie of ['onair_console=forged', `onair_console=${'A'.repeat(43)}`]) {
      expect((await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie } })).statusCode).toBe(401);
      expect((await inject({ method: 'GET', url: '/console/session', headers: { cookie } })).statusCode).toBe(401);
    }
  });

  it('ends sessions on sign-out (CSRF-checked), expiry and a disabled operator', async () => {
    const op = await createOperator('ending-dan', 'operator');
    const a = await signIn(op.token);
    const refused = await inject({ method: 'DELETE', url: '/console/session', headers: { cookie: a.cookie } });
    expect(refused.statusCode).toBe(403);
    expect((await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie: a.cookie } })).statusCode).toBe(200);
    const out = await inject({ method: 'DELETE', url: '/console/session', headers: { cookie: a.cookie, 'x-csrf-token': a.body.csrfToken } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie: a.cookie } })).statusCode).toBe(401);

    const b = await signIn(op.token);
    clock = new Date(clock.getTime() + 3_600_000 - 1);
    expect((await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie: b.cookie } })).statusCode).toBe(200);
    clock = new Date(clock.getTime() + 1);
    expect((await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie: b.cookie } })).statusCode).toBe(401);

    const c = await signIn(op.token);
    await sql`UPDATE operators SET disabled_at = ${clock} WHERE id = ${op.id}`.execute(handle.db);
    expect((await inject({ method: 'GET', url: '/v1/streamers', headers: { cookie: c.cookie } })).statusCode).toBe(401);
    // The expired session was swept by the later sign-ins.
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM console_sessions WHERE expires_at <= ${clock}`.execute(handle.db);
    expect(left.rows[0]!.n).toBe(0);
  });

  it('an ADMIN_TOKEN session is an admin until ADMIN_TOKEN is rotated', async () => {
    const { cookie, body } = await signIn(ADMIN);
    expect(body).toMatchObject({ actor: 'admin-token', role: 'admin' });
    expect((await inject({ method: 'GET', url: '/v1/audit', headers: { cookie } })).statusCode).toBe(200);
    const rotated = build('console-spec-rotated-admin-token-987654');
    await rotated.server.app.ready();
    try {
      expect((await inject({ method: 'GET', url: '/v1/audit', headers: { cookie } }, rotated)).statusCode).toBe(401);
    } finally {
      await rotated.server.app.close();
    }
  });

  it('a bearer token still works without a cookie, and wins over one', async () => {
    const op = await createOperator('bearer-eve', 'operator');
    const { cookie } = await signIn(op.token);
    // The admin's bearer with the operator's cookie: the bearer decides (admin sees the audit log).
    const both = await inject({ method: 'GET', url: '/v1/audit', headers: { cookie, authorization: `Bearer ${ADMIN}` } });
    expect(both.statusCode).toBe(200);
    // A bearer write needs no CSRF token: no browser sends it by itself.
    const id = await addStreamer('eve-streamer', op.id);
    const write = await inject({ method: 'PATCH', url: `/v1/streamers/${id}`, headers: { authorization: `Bearer ${op.token}` }, payload: { notes: 'bearer' } });
    expect(write.statusCode).toBe(200);
  });
});
