import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createHttpServer, createMetricsRegistry, type HttpServer } from '@onair/service-kit';
import { freePortForTests } from '@onair/service-kit/testing';
import { registerGiftsProxy } from './gifts-proxy';

/**
 * The room page's gift calls, forwarded: what the gifts service answers comes back as it is (status, body,
 * the balance and retry headers), only the three viewer routes are forwarded, and an unreachable service is
 * a 503 the page retries. The upstream here is a local HTTP server recording what it was sent (the gifts
 * service itself is exercised end to end in e2e/src/room-page-gifts.spec.ts).
 */
let upstream: Server;
let upstreamUrl: string;
const seen: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
let server: HttpServer;
let down: HttpServer;

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });

beforeAll(async () => {
  upstream = createServer(async (req, res) => {
    const body = await read(req);
    seen.push({ method: req.method!, url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), body });
    if (req.url!.endsWith('/gifts')) {
      res.writeHead(402, { 'content-type': 'application/json; charset=utf-8', 'x-balance': '7', 'x-internal': 'no' });
      res.end(JSON.stringify({ error: { code: 'insufficient_funds', message: 'Not enough coins for this gift' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ userId: 'ada', balance: 7 }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/`;
  const build = (url: string) => {
    const s = createHttpServer({ logger: pino({ level: 'silent' }), registry: createMetricsRegistry('realtime-gateway'), readiness: {} });
    registerGiftsProxy(s.app, { url, timeoutMs: 2_000 });
    return s;
  };
  server = build(upstreamUrl);
  down = build(`http://127.0.0.1:${await freePortForTests()}`);
});
afterAll(async () => {
  await server?.app.close();
  await down?.app.close();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe('gift forwarding', () => {
  it('forwards a send with its token and body and returns the answer as it is, with x-balance', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/gifts/v1/rooms/r1/gifts',
      headers: { authorization: 'Bearer tok', cookie: 'session=x' },
      payload: { giftId: 'star', quantity: 2, idempotencyKey: 'k-1' },
    });
    expect(res.statusCode).toBe(402);
    expect(res.headers['x-balance']).toBe('7');
    expect(res.headers['x-internal']).toBeUndefined();
    expect(res.json()).toEqual({ error: { code: 'insufficient_funds', message: 'Not enough coins for this gift' } });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/v1/rooms/r1/gifts', authorization: 'Bearer tok', body: '{"giftId":"star","quantity":2,"idempotencyKey":"k-1"}' });

    const wallet = await server.app.inject({ method: 'GET', url: '/gifts/v1/wallet', headers: { authorization: 'Bearer tok' } });
    expect([wallet.statusCode, wallet.json()]).toEqual([200, { userId: 'ada', balance: 7 }]);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/wallet' });
  });

  it('forwards nothing else, and refuses room ids a URL parser would resolve elsewhere', async () => {
    const before = seen.length;
    for (const url of ['/gifts/v1/ledger/check', '/gifts/v1/wallets/ada/grants', '/gifts/v1/catalog/rose']) {
      expect((await server.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
    // Raw HTTP, the path sent byte for byte (inject, like a browser, would resolve the dots itself).
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (server.app.server.address() as { port: number }).port;
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' } }, (res) => {
          void read(res).then((body) => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end('{}');
      });
    for (const room of ['..', '.', '%2e%2e', '%2E', 'a%2Fb', 'x'.repeat(65)]) {
      const res = await raw(`/gifts/v1/rooms/${room}/gifts`);
      expect([room, res.status, JSON.parse(res.body).error.code]).toEqual([room, 400, 'invalid_room_id']);
    }
    expect(seen.length).toBe(before);
  });

  it('answers 503 gifts_unavailable with Retry-After when the gifts service cannot be reached', async () => {
    const res = await down.app.inject({ method: 'POST', url: '/gifts/v1/rooms/r1/gifts', headers: { authorization: 'Bearer tok' }, payload: { giftId: 'rose', quantity: 1, idempotencyKey: 'k' } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({ error: { code: 'gifts_unavailable', message: 'Gifts are unavailable; try again' } });
  });
});
