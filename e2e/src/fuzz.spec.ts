import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';

/**
 * Every public route of every service, as real processes, against generated hostile requests over raw
 * TCP (so bad encodings and malformed HTTP reach the server as sent): bad JSON, huge and non-finite
 * numbers, wrong types, impossible dates, long strings, path traversal, bad percent-encoding, missing and
 * forged auth, wrong methods. Each must be answered 4xx with `{ error: { code, message } }`, never 5xx;
 * nothing may reach the chat, events, probes or dead-letter streams or Postgres; every service must be
 * healthy and ready afterwards. Reproducible from the seed; a failure names the case.
 */
const SEED = 20261201;
const COUNT = 2_400;
const SESSION_SECRET = 'fuzz-session-secret-0123456789abcdefghij';
const SESSION = testSessionKeys(SESSION_SECRET);
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdefghij';
const METRICS_TOKEN = 'fuzz-metrics-token-0123456789abcdefghij';
const LIVEKIT = { key: 'fuzz-lk-key', secret: 'fuzz-livekit-secret-0123456789abcdefghij' };
// The stack's Soketi app (`npm test` exports it); the gateway has no defaults for these.
const PUSHER = { key: process.env['PUSHER_APP_KEY'] ?? 'onair-key', secret: process.env['PUSHER_APP_SECRET'] ?? 'onair-secret' };
const SERVICES = ['ingest', 'realtime-gateway', 'summary', 'probe-scheduler', 'chat-writer', 'chat-bot', 'gifts'] as const;
type Service = (typeof SERVICES)[number];

const main = (name: Service) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));
const kick = generateKeyPairSync('rsa', { modulusLength: 2048 });

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
const ports = {} as Record<Service, number>;
const procs: SpawnedService[] = [];

beforeAll(async () => {
  env = await createTestTopology('e2e-fuzz');
  testDb = await createTestDatabase('e2e_fuzz');
  const common = {
    NATS_NAMESPACE: env.topology.namespace,
    DATABASE_URL: testDb.url,
    CLICKHOUSE_URL: '',
    LOG_LEVEL: 'warn',
    METRICS_TOKEN,
  };
  const extra: Record<Service, Record<string, string>> = {
    ingest: {
      SESSION_JWT_SECRET: SESSION_SECRET,
      KICK_PUBLIC_KEY: kick.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      LIVEKIT_API_KEY: LIVEKIT.key,
      LIVEKIT_API_SECRET: LIVEKIT.secret,
      // Limits high enough that the fuzz reaches validation rather than 429 (which would also pass).
      ROOM_RATE_BURST: '1000000',
    },
    'realtime-gateway': {
      SESSION_JWT_SECRET: SESSION_SECRET,
      PUSHER_APP_KEY: PUSHER.key,
      PUSHER_APP_SECRET: PUSHER.secret,
      LIVEKIT_API_KEY: LIVEKIT.key,
      LIVEKIT_API_SECRET: LIVEKIT.secret,
      AUTH_RATE_BURST: '100000',
      HISTORY_RATE_BURST: '100000',
    },
    summary: { ADMIN_TOKEN, JOB_TICK_MS: '600000' },
    'probe-scheduler': { ADMIN_TOKEN },
    'chat-writer': {},
    'chat-bot': { ADMIN_TOKEN, SESSION_JWT_SECRET: SESSION_SECRET },
    gifts: { ADMIN_TOKEN, SESSION_JWT_SECRET: SESSION_SECRET, PAYMENT_WEBHOOK_SECRET: 'fuzz-payment-secret-0123456789abcdef', GIFT_RATE_BURST: '1000000' },
  };
  for (const service of SERVICES) ports[service] = await freePortForTests();
  // The room page's gift calls go through the gateway to this gifts service.
  extra['realtime-gateway']['GIFTS_URL'] = `http://127.0.0.1:${ports.gifts}`;
  // One at a time: five tsx compilations at once starve a two-core machine past the start timeout.
  for (const service of SERVICES) {
    procs.push(await spawnService({ main: main(service), port: ports[service], env: { ...common, ...extra[service] }, startTimeoutMs: 60_000 }));
  }
  db = createDb({ url: testDb.url, poolMax: 2 });
  for (const service of SERVICES) await waitReady(service);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  await db?.close();
  await env?.cleanup();
  await testDb?.drop();
});

async function waitReady(service: Service): Promise<void> {
  const until = Date.now() + 60_000;
  while ((await fetch(`http://127.0.0.1:${ports[service]}/readyz`)).status !== 200) {
    if (Date.now() > until) throw new Error(`${service} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: the request goes out byte for byte as generated.

interface Hostile {
  service: Service;
  /** `<service> <METHOD> <route> <kind>`, for coverage and failure messages. */
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The whole request as bytes, for malformed HTTP; `method`/`path` are then only for the label. */
  raw?: Buffer;
}

function encode(r: Hostile): Buffer {
  if (r.raw) return r.raw;
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const lines = [`${r.method} ${r.path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
  for (const [name, value] of Object.entries(r.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body) lines.push(`content-length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}

function send(port: number, request: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // write, not end: a client that half-closes has its in-flight requests aborted by Node's HTTP server.
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while we still write (it answered a bad request early): use what came back.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', () => {
      const response = Buffer.concat(chunks).toString('utf8');
      const split = response.indexOf('\r\n\r\n');
      const head = response.slice(0, split);
      let body = response.slice(split + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) body = dechunk(body);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body });
    });
    socket.setTimeout(15_000, () => socket.destroy(new Error('no answer in 15 s')));
  });
}

function dechunk(text: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const eol = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!size) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

// ---------------------------------------------------------------------------------------------------
// Generators.

/** mulberry32: a tiny seeded PRNG, so a failing case can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
function jwt(header: object, claims: object, secret: string): string {
  const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const HUGE_NUMBERS = ['1e20', '1e400', '-1e400', 'Infinity', '-Infinity', 'NaN', '9007199254740992', '99999999999999999999999', '-1', '0x10', '1.5', '00000000000000000000000001', ''];
const BAD_DATES = ['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '0000-00-00', '9999-99-99', '2026-1-1', 'yesterday', '2026-02-30T00:00:00Z', '+275760-09-13'];
const NASTY = ['<script>alert(1)</script>', "' OR 1=1 --", '%00', '\u0000', '\u202e', '😀'.repeat(50), '${jndi:ldap://x}', '{{7*7}}', '../'.repeat(20), 'x'.repeat(5_000)];
const TRAVERSAL = ['..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2f', '....//....//', '..\\..\\windows', '%252e%252e%252f', '.', '..', '%2F'];
const BAD_ENCODINGS = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF%FE', '%%32%65', '%u002e'];
const WRONG_TYPES: unknown[] = [null, 0, -1, 1.5, true, [], {}, 'x', '9'.repeat(400), { nested: { deep: [1, 2] } }];
const METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'GETT'];

function generate(count: number, seed: number): Hostile[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const nasty = () => pick(NASTY);
  const enc = (text: string) => encodeURIComponent(text);
  const now = () => new Date().toISOString();
  const token = (id = 'fuzzer') => signSessionToken({ id, name: 'Fuzzer' }, SESSION);
  const forgedToken = () =>
    pick([
      '',
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      `Bearer ${token()}x`,
      `Bearer ${signSessionToken({ id: 'mallory', name: 'M' }, testSessionKeys('not-our-secret-0123456789abcdefghijk'))}`,
      `Bearer ${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(`{"sub":"admin","aud":"onair","iss":"onair-auth","iat":${Math.floor(Date.now() / 1000)},"exp":9999999999}`)}.`,
      `Bearer ${signSessionToken({ id: 'old', name: 'Old' }, SESSION, { nowMs: Date.now() - 10 * 86_400_000 })}`,
      `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', aud: 'someone-else', iss: 'onair-auth', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }, SESSION_SECRET)}`,
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      `bearer ${METRICS_TOKEN}x`,
      `Bearer ${'a'.repeat(3000)}`,
    ]);
  const bearer = () => `Bearer ${token(pick(['fuzzer', 'u1', 'u2']))}`;
  const json = { 'content-type': 'application/json' };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const kickHeaders = (body: string, overrides: Record<string, string> = {}) => {
    const id = overrides['kick-event-message-id'] ?? `fuzz-${Math.floor(rand() * 1e9)}`;
    const timestamp = overrides['kick-event-message-timestamp'] ?? now();
    const signature = sign('sha256', Buffer.from(`${id}.${timestamp}.${body}`), kick.privateKey).toString('base64');
    return { ...json, 'kick-event-message-id': id, 'kick-event-message-timestamp': timestamp, 'kick-event-signature': signature, 'kick-event-type': 'chat.message.sent', 'kick-event-version': '1', ...overrides };
  };
  const kickChat = (overrides: Record<string, unknown>) => ({
    message_id: `m-${Math.floor(rand() * 1e9)}`,
    broadcaster: { user_id: 1001, username: 'streamer', channel_slug: 'streamer' },
    sender: { user_id: 2002, username: 'viewer', channel_slug: 'viewer' },
    content: 'hello',
    emotes: [],
    created_at: now(),
    ...overrides,
  });
  const livekitToken = (body: string, options: { secret?: string; iss?: string; exp?: number; sha?: string; alg?: string } = {}) =>
    jwt(
      { alg: options.alg ?? 'HS256', typ: 'JWT' },
      {
        iss: options.iss ?? LIVEKIT.key,
        nbf: Math.floor(Date.now() / 1000) - 10,
        exp: options.exp ?? Math.floor(Date.now() / 1000) + 600,
        sha256: options.sha ?? createHash('sha256').update(body).digest('base64'),
      },
      options.secret ?? LIVEKIT.secret,
    );

  const g = (service: Service, method: string, route: string, kind: string, request: Omit<Hostile, 'service' | 'label' | 'method'>): Hostile => ({
    service,
    label: `${service} ${method} ${route} ${kind}`,
    method,
    ...request,
  });

  const generators: Array<() => Hostile> = [
    // ---- ingest: POST /webhooks/kick
    () => g('ingest', 'POST', '/webhooks/kick', 'unsigned', { path: '/webhooks/kick', headers: { ...json, 'kick-event-signature': b64url(nasty()) }, body: JSON.stringify(kickChat({})) }),
    () => {
      const body = JSON.stringify(kickChat({}));
      const headers = kickHeaders(body);
      delete (headers as Record<string, string>)[pick(['kick-event-message-id', 'kick-event-message-timestamp', 'kick-event-signature', 'kick-event-type'])];
      return g('ingest', 'POST', '/webhooks/kick', 'missing header', { path: '/webhooks/kick', headers, body });
    },
    () => {
      const body = JSON.stringify(kickChat({}));
      return g('ingest', 'POST', '/webhooks/kick', 'tampered body', { path: '/webhooks/kick', headers: kickHeaders(body), body: body.replace('hello', 'HELLO') });
    },
    () => {
      const body = JSON.stringify(kickChat({}));
      const timestamp = pick(['2020-01-01T00:00:00Z', '2099-01-01T00:00:00Z', ...BAD_DATES.map((d) => (d.includes('T') ? d : `${d}T00:00:00Z`))]);
      return g('ingest', 'POST', '/webhooks/kick', 'bad or stale timestamp', { path: '/webhooks/kick', headers: kickHeaders(body, { 'kick-event-message-timestamp': timestamp }), body });
    },
    () => {
      const good = JSON.stringify(kickChat({}));
      const body = good.slice(0, Math.floor(rand() * (good.length - 1)));
      return g('ingest', 'POST', '/webhooks/kick', 'signed bad json', { path: '/webhooks/kick', headers: kickHeaders(body), body });
    },
    () => {
      const field = pick(['broadcaster', 'sender']);
      // As JSON text: 9007199254740993 parses to 2^53 and 1e400 to Infinity, which is the point.
      const id = pick(['9007199254740992', '9007199254740993', '1e20', '1e400', '-1', '1.5', '"1001"', 'null', '[]']);
      const body = JSON.stringify(kickChat({ [field]: { user_id: '@ID@', username: 'x' } })).replace('"@ID@"', id);
      return g('ingest', 'POST', '/webhooks/kick', 'signed huge id', { path: '/webhooks/kick', headers: kickHeaders(body), body });
    },
    () => {
      const day = pick(BAD_DATES);
      const body = JSON.stringify(kickChat({ created_at: day.includes('T') ? day : `${day}T12:00:00Z` }));
      return g('ingest', 'POST', '/webhooks/kick', 'signed bad date', { path: '/webhooks/kick', headers: kickHeaders(body), body });
    },
    () => {
      const field = pick(['content', 'message_id', 'sender', 'broadcaster']);
      // A 400-character string is a valid content (≤ 2000), but too long for an id.
      const body = JSON.stringify(kickChat({ [field]: pick(WRONG_TYPES.filter((v) => typeof v !== 'string' || (v.length > 300 && field !== 'content'))) }));
      return g('ingest', 'POST', '/webhooks/kick', 'signed wrong type', { path: '/webhooks/kick', headers: kickHeaders(body), body });
    },
    () => {
      const body = JSON.stringify(kickChat({ content: 'x'.repeat(2001 + Math.floor(rand() * 3000)) }));
      return g('ingest', 'POST', '/webhooks/kick', 'signed long content', { path: '/webhooks/kick', headers: kickHeaders(body), body });
    },
    () => {
      const body = JSON.stringify({ broadcaster: { user_id: pick(['x', 1e20, null]) }, is_live: 'yes' });
      return g('ingest', 'POST', '/webhooks/kick', 'signed bad event', { path: '/webhooks/kick', headers: kickHeaders(body, { 'kick-event-type': pick(['livestream.status.updated', 'channel.followed', 'kicks.gifted']) }), body });
    },
    () => g('ingest', 'POST', '/webhooks/kick', 'wrong content type', { path: '/webhooks/kick', headers: { 'content-type': pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) }, body: 'a=1' }),
    () => g('ingest', 'POST', '/webhooks/kick', 'huge body', { path: '/webhooks/kick', headers: json, body: JSON.stringify({ content: 'y'.repeat(70_000 + Math.floor(rand() * 100_000)) }) }),
    // ---- ingest: POST /webhooks/livekit
    () => g('ingest', 'POST', '/webhooks/livekit', 'no token', { path: '/webhooks/livekit', headers: { 'content-type': 'application/webhook+json' }, body: '{"event":"room_started","id":"EV_1"}' }),
    () => {
      const body = JSON.stringify({ event: 'room_started', id: `EV_${Math.floor(rand() * 1e9)}`, room: { name: 'stage', sid: 'RM_1' }, createdAt: Math.floor(Date.now() / 1000) });
      const forged = pick([
        livekitToken(body, { secret: 'wrong-secret-0123456789abcdefghijklmnop' }),
        livekitToken(body, { iss: 'someone-else' }),
        livekitToken(body, { exp: Math.floor(Date.now() / 1000) - 3600 }),
        livekitToken(body, { sha: createHash('sha256').update('other').digest('base64') }),
        `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(`{"iss":"${LIVEKIT.key}","sha256":"x"}`)}.`,
        livekitToken(body, { alg: 'none' }),
        nasty(),
      ]);
      return g('ingest', 'POST', '/webhooks/livekit', 'forged token', { path: '/webhooks/livekit', headers: { 'content-type': 'application/webhook+json', authorization: forged }, body });
    },
    () => {
      const body = pick(['{"event":', '[]', 'null', '{"event":"room_started"}', '{"event":"x","id":"../../etc","room":{"name":"kick-1"}}', '{"event":"room_started","id":"EV_1","room":{"name":"stage"},"createdAt":1e400}', JSON.stringify({ event: nasty(), id: nasty() })]);
      return g('ingest', 'POST', '/webhooks/livekit', 'signed bad body', { path: '/webhooks/livekit', headers: { 'content-type': 'application/webhook+json', authorization: livekitToken(body) }, body });
    },
    // ---- ingest: POST /v1/rooms/:roomId/messages
    () => g('ingest', 'POST', '/v1/rooms/:roomId/messages', 'forged auth', { path: '/v1/rooms/r1/messages', headers: { ...json, authorization: forgedToken() }, body: '{"content":"hi"}' }),
    () => g('ingest', 'POST', '/v1/rooms/:roomId/messages', 'bad body', {
      path: '/v1/rooms/r1/messages',
      headers: { ...json, authorization: bearer() },
      body: pick([
        '{"content":',
        '[]',
        'null',
        '"hi"',
        JSON.stringify({ content: pick(WRONG_TYPES.filter((v) => typeof v !== 'string')) }),
        JSON.stringify({ content: '' }),
        JSON.stringify({ content: 'z'.repeat(501 + Math.floor(rand() * 5000)) }),
        JSON.stringify({ content: `a${pick(['\u0000', '\u0007', '\u001b[2J', '\u007f'])}b` }),
        JSON.stringify({ content: 'ok', messageId: pick(['', 'not-a-uuid', '00000000-0000-7000-8000-000000000000', '../../etc', 7, null, 'x'.repeat(300)]) }),
        JSON.stringify({ content: 'ok', [pick(['admin', 'senderId', 'platform', 'constructor'])]: true }),
        '{"__proto__":{"admin":true},"content":"ok"}',
        '{"content":"ok","n":1e400}',
      ]),
    }),
    () => g('ingest', 'POST', '/v1/rooms/:roomId/messages', 'bad room', {
      path: `/v1/rooms/${pick(['kick-123', 'kick-9007199254740993', 'kick-99999999999999999999', enc('a.b'), enc('sp ace'), 'x'.repeat(65), ...TRAVERSAL])}/messages`,
      headers: { ...json, authorization: bearer() },
      body: '{"content":"ok"}',
    }),
    () => g('ingest', 'POST', '/v1/rooms/:roomId/messages', 'no content type', { path: '/v1/rooms/r1/messages', headers: { authorization: bearer(), 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded']) }, body: 'content=hi' }),
    // ---- gateway: GET /v1/rooms/:roomId/messages
    () => g('realtime-gateway', 'GET', '/v1/rooms/:roomId/messages', 'bad cursor', {
      path: `/v1/rooms/r1/messages?${pick([`after=${pick(HUGE_NUMBERS.filter((n) => !['0x10', '00000000000000000000000001'].includes(n)))}`, `after=0&limit=${pick(['0', '1001', '1e9', 'Infinity', '-5', 'x'])}`, `before=${pick(['0', '-1', '1e20', 'x'])}`, 'after=1&before=5', `after=0&${enc(nasty())}=1`, 'after=1&after=2'])}`,
    }),
    () => g('realtime-gateway', 'GET', '/v1/rooms/:roomId/messages', 'bad room', { path: `/v1/rooms/${pick(['kick-9007199254740992', 'kick-0123', 'x'.repeat(65), enc(nasty()), ...TRAVERSAL])}/messages?after=0` }),
    // ---- gateway: GET /v1/rooms/:roomId/leaderboard, and the room page's gift calls it forwards to the gifts service
    () => g('realtime-gateway', 'GET', '/v1/rooms/:roomId/leaderboard', 'bad query', { path: `/v1/rooms/r1/leaderboard?${pick(['limit=0', 'limit=11', 'limit=1e400', 'limit=-1', 'limit=x', 'day=2026-01-01', `${enc(nasty())}=1`])}` }),
    () => g('realtime-gateway', 'GET', '/v1/rooms/:roomId/leaderboard', 'bad room', { path: `/v1/rooms/${pick(['kick-9007199254740992', 'kick-0123', 'x'.repeat(65), enc(nasty()), ...TRAVERSAL])}/leaderboard` }),
    () =>
      g('realtime-gateway', 'POST', '/gifts/v1/rooms/:roomId/gifts', 'forwarded, refused', {
        path: `/gifts/v1/rooms/${pick(['r1', 'kick-1', 'x'.repeat(65), enc(nasty()), ...TRAVERSAL])}/gifts`,
        headers: { ...json, authorization: pick([forgedToken(), '', 'Bearer x']) },
        body: pick(['{}', '{"giftId":"rose","quantity":1,"idempotencyKey":"k1"}', '{"giftId":', 'null', '[]']),
      }),
    () => g('realtime-gateway', 'GET', '/gifts/v1/wallet', 'forwarded, forged auth', { path: '/gifts/v1/wallet', headers: { authorization: pick([forgedToken(), '', 'Bearer x']) } }),
    // ---- gateway: POST /pusher/auth and /pusher/user-auth
    () => g('realtime-gateway', 'POST', '/pusher/auth', 'forged auth', { path: '/pusher/auth', headers: { ...form, authorization: forgedToken() }, body: 'socket_id=1.2&channel_name=presence-room-r1' }),
    () => g('realtime-gateway', 'POST', '/pusher/auth', 'bad fields', {
      path: '/pusher/auth',
      headers: { ...form, authorization: bearer() },
      body: pick([
        '',
        'socket_id=1.2',
        'channel_name=presence-room-r1',
        `socket_id=${enc(nasty())}&channel_name=presence-room-r1`,
        'socket_id=1.2&channel_name=private-user-someone-else',
        `socket_id=1.2&channel_name=${enc(pick(['private-encrypted-x', 'presence-room-', 'presence-room-' + 'x'.repeat(65), '#', 'room-r1', nasty()]))}`,
        'socket_id=99999999999999999999999.1&channel_name=presence-room-r1',
      ]),
    }),
    () => g('realtime-gateway', 'POST', '/pusher/auth', 'json body', { path: '/pusher/auth', headers: { ...json, authorization: bearer() }, body: pick(['{"socket_id":1.2,"channel_name":["x"]}', '{"socket_id":', 'null', '{"socket_id":1e400}']) }),
    () => g('realtime-gateway', 'POST', '/pusher/user-auth', 'forged auth', { path: '/pusher/user-auth', headers: { ...form, authorization: forgedToken() }, body: 'socket_id=1.2' }),
    () => g('realtime-gateway', 'POST', '/pusher/user-auth', 'bad socket id', { path: '/pusher/user-auth', headers: { ...form, authorization: bearer() }, body: `socket_id=${enc(pick(['', 'abc', '1.', '.1', '1.2.3', '9'.repeat(30) + '.1', nasty()]))}` }),
    // ---- gateway: POST /v1/rooms/:roomId/join
    () => g('realtime-gateway', 'POST', '/v1/rooms/:roomId/join', 'forged auth', { path: '/v1/rooms/stage/join', headers: { authorization: forgedToken() } }),
    () => g('realtime-gateway', 'POST', '/v1/rooms/:roomId/join', 'platform or bad room', { path: `/v1/rooms/${pick(['kick-1', 'kick-777', `kick-${Number.MAX_SAFE_INTEGER}`, 'kick-9007199254740993', 'x'.repeat(65), ...TRAVERSAL])}/join`, headers: { authorization: bearer() } }),
    // ---- gateway: POST /pusher/webhooks
    () => {
      const body = JSON.stringify({ time_ms: Date.now(), events: [{ name: 'member_added', channel: 'presence-room-r1', user_id: 'u' }] });
      const signature = pick(['', 'zz', createHmac('sha256', 'wrong').update(body).digest('hex'), createHmac('sha256', PUSHER.secret).update(`${body} `).digest('hex')]);
      return g('realtime-gateway', 'POST', '/pusher/webhooks', 'forged signature', { path: '/pusher/webhooks', headers: { ...json, 'x-pusher-key': pick([PUSHER.key, 'other-key', '']), 'x-pusher-signature': signature }, body });
    },
    () => {
      const body = pick(['{"time_ms":', 'null', '[]', '{"events":"x"}', '{"events":[{"name":1,"channel":null}]}', '{"events":[null]}', '{"time_ms":1e400,"events":[{"name":5}]}']);
      return g('realtime-gateway', 'POST', '/pusher/webhooks', 'signed bad body', { path: '/pusher/webhooks', headers: { ...json, 'x-pusher-key': PUSHER.key, 'x-pusher-signature': createHmac('sha256', PUSHER.secret).update(body).digest('hex') }, body });
    },
    // ---- gateway: GET /rooms/:roomId, GET /assets/room-page.js
    () => g('realtime-gateway', 'GET', '/rooms/:roomId', 'bad room', { path: `/rooms/${pick(['kick-9007199254740992', 'x'.repeat(65), enc('<script>'), enc('"><img src=x>'), ...TRAVERSAL])}` }),
    () => g('realtime-gateway', pick(METHODS.slice(0, 3)), '/assets/room-page.js', 'wrong method', { path: '/assets/room-page.js' }),
    // ---- summary: admin read API
    () => g('summary', 'GET', pick(['/v1/streamers', '/v1/streamers/:id', '/v1/summaries', '/v1/jobs']), 'forged auth', { path: pick(['/v1/streamers', '/v1/streamers/1', '/v1/summaries', '/v1/jobs']), headers: { authorization: forgedToken() } }),
    () => g('summary', 'GET', '/v1/streamers/:id', 'bad id', { path: `/v1/streamers/${pick([...HUGE_NUMBERS.filter((n) => !['0x10', '00000000000000000000000001', ''].includes(n)), enc(nasty()), ...TRAVERSAL])}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    () => g('summary', 'GET', '/v1/streamers', 'bad query', {
      path: `/v1/streamers?${pick([`limit=${pick(HUGE_NUMBERS.filter((n) => n !== '0x10' && n !== '00000000000000000000000001'))}`, `offset=${pick(['1e20', 'Infinity', '-1', '1000001'])}`, `sort=${enc(nasty())}`, `q=${enc(pick(['\u0000', '\u001b', 'x'.repeat(101), '']))}`, `${enc(nasty())}=1`])}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    () => g('summary', 'GET', '/v1/summaries', 'bad query', {
      path: `/v1/summaries?${pick([`day=${enc(pick(BAD_DATES))}`, `streamerId=${pick(['1e20', 'Infinity', '0', '-1', 'abc', '9007199254740992'])}`, `limit=${pick(['0', '1001', '1e400', 'NaN'])}`, 'day=2026-01-01&bogus=1'])}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    () => g('summary', 'GET', '/v1/jobs', 'bad query', {
      path: `/v1/jobs?${pick([`status=${enc(nasty())}`, `name=${enc(pick(['\u0000', 'x'.repeat(65), '']))}`, `limit=${pick(['0', '501', 'Infinity', '1e20'])}`, 'x=1'])}`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    () => g('summary', pick(['POST', 'PUT', 'DELETE']), '/openapi.json', 'wrong method', { path: '/openapi.json', headers: json, body: '{}' }),
    () => g('summary', pick(['POST', 'DELETE', 'PATCH']), '/v1/streamers', 'wrong method', { path: pick(['/v1/streamers', '/v1/streamers/1', '/v1/jobs']), headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{"display_name":"x"}' }),
    // ---- probe-scheduler: GET /v1/audit/stream-starts
    // ---- gifts: viewers (session), the payment provider (HMAC), operators (ADMIN_TOKEN)
    () =>
      g('gifts', 'POST', '/v1/rooms/:roomId/gifts', 'bad gift', {
        path: `/v1/rooms/${pick(['r1', 'kick-1', enc(nasty()), 'x'.repeat(65)])}/gifts`,
        headers: { ...json, authorization: pick([bearer(), forgedToken(), '']) },
        body: pick([
          '{',
          JSON.stringify({ giftId: 'rose', quantity: pick([0, -1, 1.5, 1e20, '1', null]), idempotencyKey: 'k' }),
          JSON.stringify({ giftId: pick(['', 'x'.repeat(65), 7, null]), quantity: 1, idempotencyKey: 'k' }),
          JSON.stringify({ giftId: 'rose', quantity: 1, idempotencyKey: pick(['', 'a b', 'x'.repeat(129), nasty()]) }),
          JSON.stringify({ giftId: 'rose', quantity: 1 }),
          JSON.stringify({ giftId: 'nope-gift', quantity: 1, idempotencyKey: `k-${rand()}` }),
          JSON.stringify({ giftId: 'rose', quantity: 1, idempotencyKey: `k-${rand()}` }),
        ]),
      }),
    () => g('gifts', 'GET', '/v1/wallet', 'forged auth', { path: '/v1/wallet', headers: { authorization: pick([forgedToken(), '', 'Bearer x']) } }),
    () =>
      g('gifts', 'PUT', '/v1/rooms/:roomId/gifting', 'bad gifting', {
        path: `/v1/rooms/${pick(['r1', 'kick-1', enc(nasty())])}/gifting`,
        headers: { ...json, authorization: pick([bearer(), forgedToken()]) },
        body: pick(['{"open":"yes"}', '{}', '[', '{"open":true,"owner":"me"}', '{"open":true}']),
      }),
    () =>
      g('gifts', 'POST', '/v1/payments/webhook', 'forged payment', {
        path: '/v1/payments/webhook',
        headers: { ...json, 'x-signature': pick(['', 'sha256=', `sha256=${'0'.repeat(64)}`, nasty()]) },
        body: JSON.stringify({ id: 'evt_1', type: 'payment.succeeded', data: { userId: 'u', coins: 1_000_000 } }),
      }),
    () => {
      const route = pick(['POST /v1/wallets/:userId/grants', 'GET /v1/wallets/:userId', 'POST /v1/gifts/:giftId/refund', 'PUT /v1/catalog/:giftId', 'GET /v1/ledger/check']);
      const [method, path] = route.split(' ') as [string, string];
      const filled = path.replace(':userId', 'u1').replace(':giftId', method === 'PUT' ? 'rose' : '1');
      return g('gifts', method, path, 'forged admin', { path: filled, headers: { ...json, authorization: pick([forgedToken(), `Bearer ${ADMIN_TOKEN}x`, '']) }, body: '{}' });
    },
    () =>
      g('gifts', 'POST', '/v1/wallets/:userId/grants', 'bad grant', {
        path: `/v1/wallets/${pick(['u1', enc('\u0000'), 'x'.repeat(129)])}/grants`,
        headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` },
        body: pick(['{', JSON.stringify({ amount: pick([0, -5, 1e20, 'x']), idempotencyKey: 'k' }), JSON.stringify({ amount: 5 }), JSON.stringify({ amount: 5, idempotencyKey: 'a b' })]),
      }),
    () => g('gifts', 'POST', '/v1/gifts/:giftId/refund', 'bad refund', { path: `/v1/gifts/${pick([...HUGE_NUMBERS.filter((n) => !['0x10', '00000000000000000000000001'].includes(n)), '999999', enc(nasty())])}/refund`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    () =>
      g('gifts', 'PUT', '/v1/catalog/:giftId', 'bad catalog', {
        path: `/v1/catalog/${pick(['rose', 'UPPER', enc(nasty())])}`,
        headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` },
        body: pick(['{', JSON.stringify({ name: '', priceCoins: 1, active: true }), JSON.stringify({ name: 'x', priceCoins: 0, active: true }), JSON.stringify({ name: 'x', priceCoins: 1 })]),
      }),
    // ---- chat-bot: settings (operators), clips and streams (operators or the channel's streamer)
    () => {
      const route = pick(['GET /v1/channels/:channelId/bot-settings', 'GET /v1/channels/:channelId/clips', 'GET /v1/channels/:channelId/streams']);
      const tail = route.split(':channelId')[1]!;
      return g('chat-bot', 'GET', route.slice(4), 'forged auth', { path: `/v1/channels/${pick(['kick-1', 'r1'])}${tail}`, headers: { authorization: pick([forgedToken(), `Bearer ${ADMIN_TOKEN}x`, '']) } });
    },
    () => {
      const route = pick(['GET /v1/channels/:channelId/clips', 'GET /v1/channels/:channelId/streams', 'GET /v1/channels/:channelId/bot-settings']);
      const tail = route.split(':channelId')[1]!;
      const channel = pick(['kick-9007199254740993', 'kick-99999999999999999999', 'kick-0123', enc(nasty()), ...TRAVERSAL, 'a'.repeat(65), 'r1']);
      // Numbers that parse to a valid value ('0x10', '' → 0 …) would be answered 200: only out-of-range ones here.
      const bad = HUGE_NUMBERS.filter((n) => !['0x10', '00000000000000000000000001', ''].includes(n));
      const query = tail === '/bot-settings' ? '' : `?${pick([`stream=${pick(bad)}`, `limit=${pick(['0', '100000', ...bad])}`, `after=${pick(bad)}`, `${enc(nasty())}=1`, 'replaced=maybe'])}`;
      // A valid channel only with a bad query, so the request is always refused.
      const path = channel === 'r1' && !query ? `/v1/channels/${enc(nasty())}${tail}` : `/v1/channels/${channel}${tail}${channel === 'r1' ? query : pick(['', query])}`;
      return g('chat-bot', 'GET', route.slice(4), 'bad input', { path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    },
    () =>
      g('chat-bot', 'PUT', '/v1/channels/:channelId/bot-settings', 'bad settings', {
        path: `/v1/channels/${pick(['kick-1', 'r1'])}/bot-settings`,
        headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` },
        body: pick([
          '{',
          JSON.stringify({ enabled: 'yes', mode: 'everyone', approvedUsers: [], cooldownS: 60, minClipS: 5, maxClipS: 120, replies: true }),
          JSON.stringify({ enabled: true, mode: pick(['all', '', nasty()]), approvedUsers: [], cooldownS: 60, minClipS: 5, maxClipS: 120, replies: true }),
          JSON.stringify({ enabled: true, mode: 'everyone', approvedUsers: [nasty(), '\u0000'], cooldownS: pick([-1, 1e20, 'x']), minClipS: 5, maxClipS: 120, replies: true }),
          JSON.stringify({ enabled: true, mode: 'everyone', approvedUsers: [], cooldownS: 60, minClipS: 100, maxClipS: 10, replies: true }),
          JSON.stringify({ enabled: true, mode: 'everyone', approvedUsers: Array.from({ length: 600 }, (_, i) => `u${i}`), cooldownS: 60, minClipS: 5, maxClipS: 120, replies: true }),
          JSON.stringify({ [pick(['admin', '__proto__', 'constructor'])]: true }),
        ]),
      }),
    () => g('chat-bot', 'PUT', '/v1/channels/:channelId/bot-settings', 'forged auth', { path: '/v1/channels/kick-1/bot-settings', headers: { ...json, authorization: forgedToken() }, body: JSON.stringify({ enabled: false, mode: 'everyone', approvedUsers: [], cooldownS: 60, minClipS: 5, maxClipS: 120, replies: true }) }),
    () => g('probe-scheduler', 'GET', '/v1/audit/stream-starts', 'forged auth', { path: `/v1/audit/stream-starts${pick(['', '?hours=1'])}`, headers: { authorization: forgedToken() } }),
    () => g('probe-scheduler', 'GET', '/v1/audit/stream-starts', 'bad query', { path: `/v1/audit/stream-starts?${pick([`hours=${pick(['0', '169', ...HUGE_NUMBERS.filter((n) => n !== '0x10' && n !== '00000000000000000000000001')])}`, `since=${pick(BAD_DATES)}`, `${enc(nasty())}=1`])}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    () => g('probe-scheduler', pick(['POST', 'DELETE']), '/v1/audit/stream-starts', 'wrong method', { path: '/v1/audit/stream-starts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    // ---- every service: ops routes, unknown paths, bad encodings, malformed HTTP
    ...SERVICES.flatMap((service): Array<() => Hostile> => [
      () => g(service, 'GET', '/metrics', 'forged token', { path: '/metrics', headers: ((a: string): Record<string, string> => (a ? { authorization: a } : {}))(forgedToken()) }),
      () => g(service, pick(METHODS), pick(['/healthz', '/readyz', '/metrics']), 'wrong method', { path: pick(['/healthz', '/readyz', '/metrics']), headers: json, body: '{}' }),
      () => g(service, 'GET', '/<unknown>', 'unknown or traversal', { path: `/${pick([...TRAVERSAL, 'admin', '.env', 'etc/passwd', '%2e%2e/%2e%2e/etc/passwd', enc(nasty()), 'v1/rooms', 'v2/streamers'])}${pick(['', '/', '?x=1'])}` }),
      () => g(service, 'GET', '/<bad encoding>', 'bad encoding', { path: pick([`/${pick(BAD_ENCODINGS)}`, `/v1/rooms/${pick(BAD_ENCODINGS)}/messages`, `/v1/streamers/${pick(BAD_ENCODINGS)}`, `/rooms/${pick(BAD_ENCODINGS)}`]) }),
      () => g(service, 'GET', '/<long>', 'long path', { path: `/${pick(['v1/rooms/', 'rooms/', 'v1/streamers/', ''])}${'a'.repeat(200 + Math.floor(rand() * 20_000))}` }),
      () => {
        const raw = pick([
          'GARBAGE\r\n\r\n',
          'GET / HTTP/9.9\r\n\r\n',
          'GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n',
          'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
          'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
          'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n',
          'GET /he althz HTTP/1.1\r\nHost: x\r\n\r\n',
        ]);
        return g(service, 'RAW', '<malformed http>', 'malformed http', { path: '', raw: Buffer.from(raw, 'latin1') });
      },
    ]),
  ];

  const cases: Hostile[] = [];
  while (cases.length < count) cases.push(pick(generators)());
  return cases;
}

/** The routes the fuzz must reach at least twice each: every public route of every service. */
const ROUTES: Record<Service, string[]> = {
  ingest: ['POST /webhooks/kick', 'POST /webhooks/livekit', 'POST /v1/rooms/:roomId/messages'],
  'realtime-gateway': ['GET /v1/rooms/:roomId/messages', 'GET /v1/rooms/:roomId/leaderboard', 'POST /gifts/v1/rooms/:roomId/gifts', 'GET /gifts/v1/wallet', 'POST /pusher/auth', 'POST /pusher/user-auth', 'POST /v1/rooms/:roomId/join', 'POST /pusher/webhooks', 'GET /rooms/:roomId', '/assets/room-page.js'],
  summary: ['GET /v1/streamers', 'GET /v1/streamers/:id', 'GET /v1/summaries', 'GET /v1/jobs', '/openapi.json'],
  'probe-scheduler': ['GET /v1/audit/stream-starts'],
  'chat-writer': [],
  gifts: [
    'POST /v1/rooms/:roomId/gifts',
    'GET /v1/wallet',
    'PUT /v1/rooms/:roomId/gifting',
    'POST /v1/payments/webhook',
    'POST /v1/wallets/:userId/grants',
    'GET /v1/wallets/:userId',
    'POST /v1/gifts/:giftId/refund',
    'PUT /v1/catalog/:giftId',
    'GET /v1/ledger/check',
  ],
  'chat-bot': ['GET /v1/channels/:channelId/bot-settings', 'PUT /v1/channels/:channelId/bot-settings', 'GET /v1/channels/:channelId/clips', 'GET /v1/channels/:channelId/streams'],
};
const OPS = ['GET /metrics', '/healthz', '/readyz', '<bad encoding>', '<malformed http>', '<long>', '<unknown>'];

/** Words of a hostile request that must never come back in an error message. */
const ECHO_MARKERS = ['<script>', '<img', 'jndi:', '{{7*7}}', "' OR 1=1", '\u202e', '\u0000', '../../'];
/** A library's own words (jose's, via the LiveKit SDK; Fastify's codes) must not reach a client either. */
const LIBRARY_MARKERS = ['none algorithm', 'string literal', 'FST_ERR', 'ERR_J', 'Unexpected token', 'JSON at position'];

/** Sends cases a few at a time and returns what is wrong with each answer (empty: all 4xx, shaped, no echo). */
async function run(cases: Hostile[], statuses: Map<number, number>): Promise<string[]> {
  const wrong: string[] = [];
  let next = 0;
  // A few connections at a time: enough to overlap, not enough to starve the two cores.
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const c = cases[i]!;
        const res = await send(ports[c.service], encode(c)).catch((error: Error) => ({ status: 0, body: error.message }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        let parsed: unknown;
        try {
          parsed = JSON.parse(res.body);
        } catch {
          parsed = undefined;
        }
        const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
        const shaped =
          parsed !== null &&
          typeof parsed === 'object' &&
          Object.keys(parsed).length === 1 &&
          typeof error?.code === 'string' &&
          typeof error.message === 'string' &&
          Object.keys(error).length === 2;
        const echoed = shaped ? [...ECHO_MARKERS, ...LIBRARY_MARKERS].find((m) => (error.message as string).includes(m)) : undefined;
        if (res.status < 400 || res.status >= 500 || !shaped || echoed) {
          wrong.push(`#${i} ${c.label} (${c.method} ${c.path.slice(0, 80)}): ${res.status} ${echoed ? `echoes ${JSON.stringify(echoed)}: ` : ''}${res.body.slice(0, 160)}`);
        }
      }
    }),
  );
  return wrong;
}

async function streamCounts(): Promise<Record<string, number>> {
  const { topology, messaging } = env;
  const out: Record<string, number> = {};
  for (const stream of [topology.chat.stream, topology.events.stream, topology.probes.stream, topology.deadLetter.stream]) {
    out[stream] = (await messaging.jsm.streams.info(stream)).state.messages;
  }
  return out;
}

async function rowCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['chat_messages', 'streamers', 'streamer_channels', 'probes', 'daily_summaries', 'bot_settings', 'clips', 'gifts', 'ledger_entries', 'wallets', 'gift_rooms', 'gift_catalog']) {
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db.db);
    out[table] = Number(rows[0]!.n);
  }
  return out;
}

describe(`fuzz: ${COUNT} hostile requests across every service`, () => {
  const cases = generate(COUNT, SEED);

  it('covers every public route of every service, and the ops routes of each, at least twice', () => {
    const labels = cases.map((c) => c.label);
    for (const service of SERVICES) {
      for (const route of [...ROUTES[service], ...OPS]) {
        const hits = labels.filter((l) => l.startsWith(`${service} `) && l.includes(route)).length;
        expect(hits, `${service} ${route}`).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('answers every one with a 4xx in the error shape, stores and publishes nothing, and leaves every service healthy', async () => {
    const streamsBefore = await streamCounts();
    const rowsBefore = await rowCounts();
    const statuses = new Map<number, number>();
    expect(cases.length).toBeGreaterThanOrEqual(2_000);
    const wrong = await run(cases, statuses);
    console.info(`fuzz: ${cases.length} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect(wrong).toEqual([]);
    expect(await streamCounts()).toEqual(streamsBefore);
    expect(await rowCounts()).toEqual(rowsBefore);
    for (const service of SERVICES) {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`http://127.0.0.1:${ports[service]}${path}`);
        expect(res.status, `${service} ${path}`).toBe(200);
      }
    }
  }, 600_000);
});
