import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
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
}

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

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'not_found', message: `No route for ${request.method} ${request.url}` } }),
  );

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
  app.get('/metrics', async (_request, reply) => {
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

const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
};

function describeError(error: FastifyError | HttpError): { status: number; code: string; message: string } {
  if (error instanceof HttpError) return { status: error.statusCode, code: error.code, message: error.message };
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) return { ...known, message: error.message };
  if (error.validation) {
    // A bad query or path value is a malformed request (400); a well-formed body that breaks the
    // schema is unprocessable (422).
    const where = (error as FastifyError & { validationContext?: string }).validationContext;
    if (where === 'querystring') return { status: 400, code: 'invalid_query', message: error.message };
    if (where === 'params') return { status: 400, code: 'invalid_params', message: error.message };
    return { status: 422, code: 'validation_failed', message: error.message };
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, code: (error.code ?? 'bad_request').toLowerCase(), message: error.message };
  }
  // 5xx bodies never carry internals; the log has the cause.
  return { status: 500, code: 'internal_error', message: 'Internal server error' };
}
