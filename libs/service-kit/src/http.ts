import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { HttpError } from './errors';
import type { Logger } from './logger';

/** One dependency's readiness, shown by `/readyz`. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface HttpServerOptions {
  logger: Logger;
  registry: Registry;
  /** Named checks that must all pass for `/readyz` to answer 200 (e.g. `nats`, `postgres`). */
  readiness?: Record<string, ReadinessCheck>;
  /** Largest accepted request body in bytes; larger bodies get 413. */
  bodyLimit?: number;
  /**
   * Addresses and CIDR blocks of proxies whose `X-Forwarded-For` is believed (`TRUST_PROXY`); `request.ip`
   * is then the client in front of them. Empty or absent: `request.ip` is the socket's peer.
   */
  trustProxy?: readonly string[];
  /** Bearer token `/metrics` requires (`METRICS_TOKEN`); absent: `/metrics` is open. */
  metricsToken?: string;
}

/** The part of the server's options that comes from the common config (`httpServerConfig(config)`). */
export type HttpServerConfig = Pick<HttpServerOptions, 'trustProxy' | 'metricsToken'>;

export interface HttpServer {
  app: FastifyInstance;
  /**
   * Stops taking work: every later request (but `/healthz` and `/metrics`) gets 503, so a load balancer
   * moves traffic away while in-flight requests finish.
   */
  startDraining(): void;
  readonly draining: boolean;
}

const OPS_PATHS = new Set(['/healthz', '/metrics']);

/**
 * A fastify instance with the operational endpoints every service has and the error shape every client
 * sees: `{ error: { code, message } }`. It does not listen; `main.ts` does.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    trustProxy: options.trustProxy?.length ? [...options.trustProxy] : false,
    // Bad percent-encoding (`GET /%`) and over-long path parameters are refused before routing: in our
    // shape, without echoing the path.
    frameworkErrors: (error, _request, reply) => {
      const { status, code, message } = describeError(error);
      return (reply as FastifyReply).code(status).send({ error: { code, message } });
    },
    clientErrorHandler,
    // Per-request info logs cost more than the work at 10k req/s; errors are still logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    // Unknown fields are refused, not silently dropped: a misspelt `limt` should be an error.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
  });
  let draining = false;

  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [options.registry],
  });

  app.addHook('onRequest', async (request, reply) => {
    if (draining && !OPS_PATHS.has(request.url)) {
      reply.header('connection', 'close').header('retry-after', '5');
      return reply.code(503).send({ error: { code: 'shutting_down', message: 'Server is shutting down' } });
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    duration
      .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  // Ajv's type coercion turns `?limit=Infinity` (or `1e400`) into Infinity, calls it an integer and then
  // skips minimum/maximum for it (ajv 8); JSON.parse reads `1e400` as Infinity too. No route wants one.
  app.addHook('preHandler', async (request) => {
    for (const [part, value, status, code] of [
      ['params', request.params, 400, 'invalid_params'],
      ['querystring', request.query, 400, 'invalid_query'],
      ['body', request.body, 422, 'validation_failed'],
    ] as const) {
      const path = nonFiniteAt(value, part, 0);
      if (path) throw new HttpError(status, code, `${path} must be a finite number`);
    }
  });

  // The URL is not echoed: a 404 body must not reflect what a client (or an attacker) sent.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: { code: 'not_found', message: 'No such route' } }));

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const { status, code, message } = describeError(error);
    if (error instanceof HttpError) reply.headers(error.headers);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ err: error, code }, 'request refused');
    return reply.code(status).send({ error: { code, message } });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of Object.entries(options.readiness ?? {})) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    const ready = !draining && Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : draining ? 'draining' : 'not_ready', checks });
  });
  app.get('/metrics', { onRequest: options.metricsToken ? requireBearer(options.metricsToken) : [] }, async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });

  return {
    app,
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}

/** Where in a parsed value a non-finite number sits (`querystring/limit`), if anywhere; depth-bounded. */
function nonFiniteAt(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object' || depth > 32 || Buffer.isBuffer(value)) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = nonFiniteAt(inner, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * An `onRequest` hook that refuses (401 `unauthorized`) a request without `Authorization: Bearer <token>`,
 * compared in constant time. For `/metrics` and operator-only routes.
 */
export function requireBearer(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (request) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, 'unauthorized', 'A valid bearer token is required');
    }
  };
}

/**
 * Malformed HTTP (bad request line, bad headers, headers too large, too slow) is answered on the raw
 * socket, since there is no request to reply to, in the same shape as every other error.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'Request headers are too large']
        : [400, 'malformed_request', 'The request is not valid HTTP'];
  const body = JSON.stringify({ error: { code, message } });
  // As Node does: answer only if no response of this socket has started, or the peer would get garbage.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's own 4xx errors, each with our code and a message that carries nothing the client sent. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'This Content-Type is not accepted here' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length', message: 'Body size does not match Content-Length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' },
  FST_ERR_BAD_URL: { status: 400, code: 'invalid_url', message: 'The URL is not validly encoded' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: 'A path segment is too long' },
  FST_ERR_INVALID_URL: { status: 400, code: 'invalid_url', message: 'The URL is not valid' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'bad_request', message: 'The request could not be routed' },
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: { status: 400, code: 'missing_content_type', message: 'A Content-Type header is required' },
  FST_ERR_ROUTE_MISSING_CONTENT: { status: 400, code: 'missing_body', message: 'A request body is required' },
  FST_ERR_NOT_FOUND: { status: 404, code: 'not_found', message: 'No such route' },
};

/** A generic code and message per status, for a 4xx some library raised without saying more that we trust. */
const GENERIC_4XX: Record<number, { code: string; message: string }> = {
  401: { code: 'unauthorized', message: 'Not authorised' },
  403: { code: 'forbidden', message: 'Forbidden' },
  404: { code: 'not_found', message: 'Not found' },
  405: { code: 'method_not_allowed', message: 'Method not allowed' },
  406: { code: 'not_acceptable', message: 'Not acceptable' },
  408: { code: 'request_timeout', message: 'The request did not arrive in time' },
  411: { code: 'length_required', message: 'Content-Length is required' },
  413: { code: 'body_too_large', message: 'Request body is too large' },
  414: { code: 'uri_too_long', message: 'The URL is too long' },
  415: { code: 'unsupported_media_type', message: 'This Content-Type is not accepted here' },
  429: { code: 'rate_limited', message: 'Too many requests' },
  431: { code: 'headers_too_large', message: 'Request headers are too large' },
};

/**
 * What a client is told about an error. Only our own `HttpError`s and schema validation speak in their
 * own words; anything else a library raised gets our code and a fixed message (a 4xx keeps its status,
 * anything else is a 500 without internals). The log keeps the original.
 */
export function describeError(error: FastifyError | HttpError | Error): { status: number; code: string; message: string } {
  if (error instanceof HttpError) return { status: error.statusCode, code: error.code, message: error.message };
  const fastifyError = error as FastifyError & { validationContext?: string };
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return known;
  if (fastifyError.validation) {
    // A bad query or path value is a malformed request (400); a well-formed body that breaks the
    // schema is unprocessable (422). The messages are our schemas' words, not the client's input.
    const where = fastifyError.validationContext;
    if (where === 'querystring') return { status: 400, code: 'invalid_query', message: error.message };
    if (where === 'params') return { status: 400, code: 'invalid_params', message: error.message };
    if (where === 'headers') return { status: 400, code: 'invalid_headers', message: error.message };
    return { status: 422, code: 'validation_failed', message: error.message };
  }
  const status = fastifyError.statusCode ?? 500;
  if (error instanceof SyntaxError || (status === 400 && /JSON|prototype|constructor/i.test(error.message))) {
    return { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' };
  }
  if (status >= 400 && status < 500) return { status, ...(GENERIC_4XX[status] ?? { code: 'bad_request', message: 'The request is not valid' }) };
  // 5xx bodies never carry internals; the log has the cause.
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
}
