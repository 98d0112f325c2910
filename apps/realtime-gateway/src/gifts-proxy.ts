import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseRoomId } from '@onair/contracts';
import { HttpError } from '@onair/service-kit';

/** Where the room page reaches the gifts service on the gateway's own origin. */
export const GIFTS_PROXY_PREFIX = '/gifts';

export interface GiftsProxyOptions {
  /** The gifts service's base URL (`GIFTS_URL`). */
  url: string;
  /** How long to wait for its answer, in ms, before answering 503 (the page retries with the same key). */
  timeoutMs: number;
}

/** Response headers the page reads: the balance after a refusal, and how long to wait after a 429. */
const PASSED_BACK = ['content-type', 'x-balance', 'retry-after'];

/**
 * The three gifts routes a viewer's room page uses, forwarded to the gifts service so the page's calls stay
 * on the gateway's origin (no CORS, no preflight per gift): `GET /gifts/v1/catalog`, `GET /gifts/v1/wallet`,
 * `POST /gifts/v1/rooms/:roomId/gifts`. Nothing else is forwarded (operators' routes stay unreachable from
 * here). The gifts service authenticates, rate-limits per user and validates; answers come back as they are.
 */
export function registerGiftsProxy(app: FastifyInstance, options: GiftsProxyOptions): void {
  const base = options.url.replace(/\/+$/, '');
  const forward = async (request: FastifyRequest, reply: FastifyReply, path: string, body?: unknown) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.headers.authorization) headers['authorization'] = request.headers.authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let upstream: Response;
    try {
      upstream = await fetch(`${base}${path}`, {
        method: request.method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      request.log.warn({ err: error }, 'gifts service unreachable');
      throw new HttpError(503, 'gifts_unavailable', 'Gifts are unavailable; try again', { headers: { 'retry-after': '1' } });
    }
    const text = await upstream.text();
    reply.code(upstream.status);
    for (const name of PASSED_BACK) {
      const value = upstream.headers.get(name);
      if (value !== null) reply.header(name, value);
    }
    return reply.send(text);
  };

  app.get(`${GIFTS_PROXY_PREFIX}/v1/catalog`, (request, reply) => forward(request, reply, '/v1/catalog'));
  app.get(`${GIFTS_PROXY_PREFIX}/v1/wallet`, (request, reply) => forward(request, reply, '/v1/wallet'));
  app.post<{ Params: { roomId: string } }>(
    `${GIFTS_PROXY_PREFIX}/v1/rooms/:roomId/gifts`,
    { bodyLimit: 4_096 },
    (request, reply) => {
      // Checked here too: a URL parser would resolve a room id of `.` or `..` into another path upstream.
      if (!parseRoomId(request.params.roomId)) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ - (or kick-<id>)');
      return forward(request, reply, `/v1/rooms/${encodeURIComponent(request.params.roomId)}/gifts`, request.body ?? {});
    },
  );
}
