import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { browserScript, createRateLimiter, HttpError } from '@onair/service-kit';
import { consolePage } from './page';
import { csrfTokenFor, readCookie, SESSION_COOKIE, sessionCookie, type ConsoleSessions } from './sessions';

export interface ConsoleOptions {
  sessions: ConsoleSessions;
  /** The realtime gateway's public URL (room history and Pusher config for the chat tail); absent: no chat tail. */
  gatewayUrl?: string;
  now: () => Date;
}

/**
 * The console's script: the bundle `nx build summary` writes next to the built service
 * (dist/apps/summary/console.js), or, run from source (tsx, tests), the source bundled on first request.
 */
const script = browserScript({
  source: fileURLToPath(new URL('./console.browser.ts', import.meta.url)),
  prebuilt: fileURLToPath(new URL('./console.js', import.meta.url)),
});

const SignInBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

/**
 * Page-level hardening: scripts only from here (the bundle; the config is JSON, not script), no framing
 * (clickjacking of the write buttons), no referrer leaking a streamer id. `connect-src` also allows the
 * gateway (history) and its Pusher server (a websocket whose host only the gateway's config names).
 */
function securityHeaders(reply: FastifyReply, gatewayUrl: string | undefined): FastifyReply {
  const connect = gatewayUrl ? `'self' ${new URL(gatewayUrl).origin} ws: wss:` : `'self'`;
  return reply
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src ${connect}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/**
 * The operators' console: `GET /console` (the page), `/console/app.js` (its script), and its session —
 * `POST /console/session` exchanges an operator token (or ADMIN_TOKEN) for an HttpOnly, SameSite=Strict
 * cookie and answers the CSRF token writes must carry; `GET` says who is signed in; `DELETE` signs out.
 * Everything else the page does goes through the same /v1 API as any client, authenticated by the cookie.
 */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  // Guessing tokens is hopeless (256 bits), but sign-in is the one unauthenticated route that queries.
  const signInLimit = createRateLimiter({ burst: 10, perSecond: 0.5, maxKeys: 10_000 });
  const config = JSON.stringify({ gatewayUrl: options.gatewayUrl ?? null }).replace(/</g, '\\u003c');

  app.get('/console/app.js', async (_request, reply) => {
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await script());
  });

  app.get('/console', async (_request, reply) => {
    return securityHeaders(reply, options.gatewayUrl).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(consolePage(config));
  });

  app.post<{ Body: Static<typeof SignInBody> }>('/console/session', { schema: { body: SignInBody } }, async (request, reply) => {
    const wait = signInLimit.take(request.ip);
    if (wait > 0) throw new HttpError(429, 'rate_limited', 'Too many sign-in attempts', { headers: { 'retry-after': String(wait) } });
    const signedIn = await options.sessions.signIn(request.body.token);
    if (!signedIn) throw new HttpError(401, 'unauthorized', 'That token is not a valid operator token');
    request.log.info({ actor: signedIn.principal.actor, role: signedIn.principal.role }, 'console sign-in');
    const maxAgeS = Math.floor((signedIn.expiresAt.getTime() - options.now().getTime()) / 1000);
    return reply
      .header('set-cookie', sessionCookie(signedIn.cookie, { maxAgeS, secure: request.protocol === 'https' }))
      .header('cache-control', 'no-store')
      .send({ actor: signedIn.principal.actor, role: signedIn.principal.role, csrfToken: signedIn.csrfToken, expiresAt: signedIn.expiresAt.toISOString() });
  });

  app.get('/console/session', async (request, reply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = cookie === undefined ? undefined : await options.sessions.find(cookie);
    if (!cookie || !session) throw new HttpError(401, 'unauthorized', 'Not signed in');
    return reply.header('cache-control', 'no-store').send({
      actor: session.principal.actor,
      role: session.principal.role,
      csrfToken: csrfTokenFor(cookie),
      expiresAt: session.expiresAt.toISOString(),
    });
  });

  app.delete('/console/session', async (request, reply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    // Signing out is a write: the CSRF check keeps another site from signing an operator out.
    if (cookie !== undefined && (await options.sessions.principalOf(request))) await options.sessions.signOut(cookie);
    return reply.header('set-cookie', sessionCookie('', { maxAgeS: 0, secure: request.protocol === 'https' })).code(204).send();
  });
}
