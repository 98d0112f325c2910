import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { HttpError } from './errors';
import { createHttpServer, type HttpServer } from './http';
import { createMetricsRegistry } from './metrics';
import { isCalendarDay } from './inputs';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

function build(options: { trustProxy?: string[]; metricsToken?: string } = {}): HttpServer {
  const server = createHttpServer({ logger: pino({ level: 'silent' }), registry: createMetricsRegistry('kit'), ...options });
  server.app.get('/ip', async (request) => ({ ip: request.ip }));
  server.app.get<{ Params: { id: string } }>('/things/:id', async () => ({ ok: true }));
  server.app.post('/echo', async (request) => request.body);
  server.app.get('/page', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100 } } } } }, async (request) => request.query);
  server.app.get('/library-4xx', async () => {
    // What a third-party library throws: a status, and words of its own the client must not see.
    throw Object.assign(new Error('Key for the none algorithm must be the string literal "none"'), { statusCode: 401, code: 'ERR_JOSE_NOT_SUPPORTED' });
  });
  server.app.get('/crash', async () => {
    throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
  });
  server.app.get('/ours', async () => {
    throw new HttpError(409, 'conflict', 'Already there', { headers: { 'x-why': 'test' } });
  });
  return server;
}

type ErrorBody = { error: { code: string; message: string } };
const shape = (body: string): ErrorBody => {
  const parsed = JSON.parse(body) as ErrorBody;
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message']);
  return parsed;
};

/** Sends raw bytes on a socket and returns everything the server writes back before closing. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (out += chunk));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
  });
}

describe('HTTP server', () => {
  let server: HttpServer;
  let port: number;
  beforeAll(async () => {
    server = build();
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    port = (server.app.server.address() as { port: number }).port;
  });
  afterAll(() => server.app.close());

  it('answers 404 without echoing the URL', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/nothing/<script>alert(1)</script>' });
    expect(res.statusCode).toBe(404);
    expect(shape(res.body)).toEqual({ error: { code: 'not_found', message: 'No such route' } });
    expect(res.body).not.toContain('script');
  });

  it.each(['/%', '/things/%E0%A4%A', '/%zz'])('answers a badly encoded URL (%s) with 400 invalid_url, over a real socket too', async (url) => {
    const res = await fetch(`http://127.0.0.1:${port}${url}`);
    expect(res.status).toBe(400);
    const body = shape(await res.text());
    expect(body.error.code).toBe('invalid_url');
    expect(body.error.message).not.toContain('%');
  });

  it('answers an over-long path parameter with 414 in our shape', async () => {
    const res = await server.app.inject({ method: 'GET', url: `/things/${'x'.repeat(500)}` });
    expect(res.statusCode).toBe(414);
    expect(shape(res.body).error.code).toBe('uri_too_long');
  });

  it.each([
    ['a bad request line', 'GARBAGE\r\n\r\n', 400, 'malformed_request'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n', 400, 'malformed_request'],
    ['a bad Content-Length', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'malformed_request'],
    ['headers over the limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
  ])('answers malformed HTTP (%s) on the raw socket in our shape', async (_label, request, status, code) => {
    const response = await raw(port, request);
    expect(response.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    const body = shape(response.slice(response.indexOf('\r\n\r\n') + 4));
    expect(body.error.code).toBe(code);
  });

  it('replaces a library 4xx with our code and message, and a crash with a bare 500', async () => {
    const library = await server.app.inject('/library-4xx');
    expect(library.statusCode).toBe(401);
    expect(shape(library.body)).toEqual({ error: { code: 'unauthorized', message: 'Not authorised' } });
    const crash = await server.app.inject('/crash');
    expect(crash.statusCode).toBe(500);
    expect(shape(crash.body)).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    const ours = await server.app.inject('/ours');
    expect(ours.statusCode).toBe(409);
    expect(ours.headers['x-why']).toBe('test');
    expect(shape(ours.body)).toEqual({ error: { code: 'conflict', message: 'Already there' } });
  });

  it.each([
    ['not JSON', 'application/json', '{"a":', 400, 'invalid_json'],
    ['a prototype key', 'application/json', '{"__proto__":{"admin":true}}', 400, 'invalid_json'],
    ['an empty JSON body', 'application/json', '', 400, 'invalid_json'],
    ['an unknown media type', 'text/x-weird; evil=<b>', 'x', 415, 'unsupported_media_type'],
  ])('refuses %s in our shape, echoing nothing', async (_label, type, payload, status, code) => {
    const res = await server.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': type }, payload });
    expect(res.statusCode).toBe(status);
    const body = shape(res.body);
    expect(body.error.code).toBe(code);
    expect(body.error.message).not.toMatch(/<b>|x-weird|proto/);
  });

  it.each(['Infinity', '-Infinity', '1e400', '-1e999'])('refuses ?limit=%s, which ajv would coerce to an unbounded integer', async (limit) => {
    const res = await server.app.inject(`/page?limit=${limit}`);
    expect(res.statusCode).toBe(400);
    expect(shape(res.body)).toEqual({ error: { code: 'invalid_query', message: 'querystring/limit must be a finite number' } });
    expect((await server.app.inject('/page?limit=100')).json()).toEqual({ limit: 100 });
  });

  it('refuses a JSON body holding a number too large for a double', async () => {
    const res = await server.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":[1,{"b":1e400}]}' });
    expect(res.statusCode).toBe(422);
    expect(shape(res.body).error.message).toBe('body/a/1/b must be a finite number');
  });

  it('answers a body over the limit with 413', async () => {
    const small = createHttpServer({ logger: pino({ level: 'silent' }), registry: createMetricsRegistry('kit'), bodyLimit: 10 });
    small.app.post('/echo', async (request) => request.body);
    const res = await small.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":"0123456789"}' });
    expect(res.statusCode).toBe(413);
    expect(shape(res.body).error.code).toBe('body_too_large');
    await small.app.close();
  });
});

describe('behind a proxy', () => {
  it('ignores X-Forwarded-For unless the peer is a trusted proxy', async () => {
    const open = build();
    const res = await open.app.inject({ url: '/ip', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.json()).toEqual({ ip: '127.0.0.1' });
    const elsewhere = build({ trustProxy: ['10.0.0.0/8'] });
    expect((await elsewhere.app.inject({ url: '/ip', headers: { 'x-forwarded-for': '203.0.113.9' } })).json()).toEqual({ ip: '127.0.0.1' });
    await Promise.all([open.app.close(), elsewhere.app.close()]);
  });

  it('believes a trusted proxy: each client behind it has its own address, and a forged hop before it is skipped', async () => {
    const proxied = build({ trustProxy: ['127.0.0.1/32'] });
    const ip = async (xff: string) => (await proxied.app.inject({ url: '/ip', headers: { 'x-forwarded-for': xff } })).json().ip;
    expect(await ip('203.0.113.9')).toBe('203.0.113.9');
    expect(await ip('198.51.100.4')).toBe('198.51.100.4');
    // The client may send its own X-Forwarded-For; the proxy appends the real peer, which is what counts.
    expect(await ip('1.2.3.4, 198.51.100.4')).toBe('198.51.100.4');
    await proxied.app.close();
  });
});

describe('/metrics', () => {
  it('is open without METRICS_TOKEN', async () => {
    const server = build();
    expect((await server.app.inject('/metrics')).statusCode).toBe(200);
    await server.app.close();
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const server = build({ metricsToken: METRICS_TOKEN });
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN]) {
      const res = await server.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(shape(res.body).error.code).toBe('unauthorized');
    }
    const ok = await server.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('http_request_duration_seconds');
    // Health stays open: kubelet probes carry no token.
    expect((await server.app.inject('/healthz')).statusCode).toBe(200);
    await server.app.close();
  });
});

describe('isCalendarDay', () => {
  it.each(['2026-02-28', '2028-02-29', '2026-12-31', '1970-01-01'])('accepts %s', (day) => expect(isCalendarDay(day)).toBe(true));
  it.each(['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-1-01', '20260101', '2026-01-01T00:00:00Z', ' 2026-01-01', ''])(
    'refuses %j',
    (day) => expect(isCalendarDay(day)).toBe(false),
  );
});
