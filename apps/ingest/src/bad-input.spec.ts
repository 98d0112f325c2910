import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry, type HttpServer } from '@onair/service-kit';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { buildApp, BODY_LIMIT } from './app';
import { loadKickKey } from './kick/signature';
import { createRateLimiter } from '@onair/service-kit';
import { createKickSigner, kickChatBody } from './testing/kick-signer';

/**
 * Hundreds of generated bad requests, reproducible from a fixed seed: each must get a 4xx with an error
 * code, none may reach JetStream, and the server must keep serving good requests afterwards.
 */
const NOW = Date.parse('2026-11-23T12:00:30Z');
const TIMESTAMP = '2026-11-23T12:00:00Z';
const SECRET = 'bad-input-spec-secret-0123456789abcdef';
const SESSION = testSessionKeys(SECRET);
const signer = createKickSigner();
const token = signSessionToken({ id: 'fuzzer', name: 'Fuzzer' }, SESSION, { nowMs: NOW });

let env: Awaited<ReturnType<typeof createTestTopology>>;
let server: HttpServer;

beforeAll(async () => {
  env = await createTestTopology('ingest-bad-input');
  server = buildApp({
    logger: pino({ level: 'silent' }),
    registry: createMetricsRegistry('ingest'),
    messaging: env.messaging,
    topology: env.topology,
    kickKey: loadKickKey(signer.publicKeyPem),
    session: SESSION,
    rateLimiter: createRateLimiter({ burst: 100_000, perSecond: 1 }),
    publishTimeoutMs: 2000,
    kickMaxSkewMs: 300_000,
    messageMaxSkewMs: 300_000,
    now: () => NOW,
  });
  await server.app.ready();
});
afterAll(async () => {
  await server?.app.close();
  await env?.cleanup();
});

/** mulberry32: a tiny seeded PRNG, so a failing case can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = ['', ' ', '\u0000', '\u0007', '\u001b[31m', '\u202e', '\ud800', '😀', '\r\n', '"', '\\', '{', '<script>', '%00', 'null', 'ç̀̀̀', '\u2028'];
const WRONG_TYPES: unknown[] = [null, 0, -1, 1.5, true, [], {}, 'x', '9'.repeat(400), { nested: { deep: [1, 2] } }];

interface Case {
  label: string;
  url: string;
  payload: string | Buffer;
  headers: Record<string, string>;
}

function generateCases(count: number, seed: number): Case[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const nasty = () => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(NASTY)).join('');
  const cases: Case[] = [];

  const signedKick = (label: string, body: string | Buffer, type = 'chat.message.sent'): Case => {
    const id = `fuzz-${cases.length}`;
    return { label, url: '/webhooks/kick', payload: body, headers: signer.headers(body.toString(), { id, type, timestamp: TIMESTAMP }) };
  };
  const room = (label: string, payload: string | Buffer, headers: Record<string, string> = {}): Case => ({
    label,
    url: `/v1/rooms/room-${cases.length % 7}/messages`,
    payload,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
  });

  const generators: Array<() => Case> = [
    // Malformed JSON, correctly signed: the signature is fine, the body is not.
    () => {
      const good = JSON.stringify(kickChatBody(`m${cases.length}`));
      return signedKick('truncated json', good.slice(0, Math.floor(rand() * (good.length - 1))));
    },
    () => signedKick('random bytes', Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)))),
    () => signedKick('json scalar', JSON.stringify(pick(WRONG_TYPES.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))))),
    // Wrong types and missing fields in a signed chat message.
    () => {
      const body = kickChatBody(`m${cases.length}`);
      const field = pick(['message_id', 'content', 'broadcaster', 'sender', 'created_at']);
      body[field] = pick(WRONG_TYPES.filter((v) => typeof v !== 'string' || field === 'created_at'));
      if (field === 'created_at' && typeof body[field] === 'string') body[field] = 'yesterday';
      return signedKick(`wrong type ${field}`, JSON.stringify(body));
    },
    () => {
      const body = kickChatBody(`m${cases.length}`);
      delete body[pick(['message_id', 'content', 'broadcaster', 'sender'])];
      return signedKick('missing field', JSON.stringify(body));
    },
    () => {
      const body = kickChatBody(`m${cases.length}`);
      (body['sender'] as Record<string, unknown>)['user_id'] = pick(['12', -5, 1.5, null, nasty()]);
      return signedKick('bad sender id', JSON.stringify(body));
    },
    () => signedKick('empty content', JSON.stringify(kickChatBody(`m${cases.length}`, { content: '' }))),
    () => signedKick('content too long', JSON.stringify(kickChatBody(`m${cases.length}`, { content: 'x'.repeat(2001 + Math.floor(rand() * 1000)) }))),
    () => signedKick('huge body', JSON.stringify(kickChatBody(`m${cases.length}`, { content: 'y'.repeat(BODY_LIMIT + Math.floor(rand() * BODY_LIMIT)) }))),
    () => signedKick('bad gift', JSON.stringify({ broadcaster: { user_id: 1 }, sender: {}, gift: { amount: pick(WRONG_TYPES) } }), 'kicks.gifted'),
    // Signature and header problems.
    () => {
      const c = signedKick('tampered', JSON.stringify(kickChatBody(`m${cases.length}`)));
      c.payload = c.payload.toString().replace('Hello', nasty() || 'Hullo');
      return c;
    },
    () => {
      const c = signedKick('bad signature header', JSON.stringify(kickChatBody(`m${cases.length}`)));
      c.headers['kick-event-signature'] = pick(['', '!!!', nasty(), Buffer.from(nasty() + 'x').toString('base64')]) || 'AA==';
      return c;
    },
    () => {
      const c = signedKick('bad id header', JSON.stringify(kickChatBody(`m${cases.length}`)));
      c.headers['kick-event-message-id'] = `id${pick(['\t', ' ', '/', '*', '>', '..', '#', 'é'])}${cases.length}`;
      return c;
    },
    () => {
      const c = signedKick('bad timestamp header', JSON.stringify(kickChatBody(`m${cases.length}`)));
      c.headers['kick-event-message-timestamp'] = pick(['yesterday', '2026-13-45T99:00:00Z', '1', '', 'NaN', '2020-01-01T00:00:00Z']) || 'x';
      return c;
    },
    () => {
      const c = signedKick('missing header', JSON.stringify(kickChatBody(`m${cases.length}`)));
      delete c.headers[pick(['kick-event-message-id', 'kick-event-message-timestamp', 'kick-event-signature', 'kick-event-type'])];
      return c;
    },
    () => {
      const c = signedKick('wrong content type', JSON.stringify(kickChatBody(`m${cases.length}`)));
      c.headers['content-type'] = pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']);
      return c;
    },
    // First-party room chat.
    () => room('room malformed json', `{"content": "${nasty()}`),
    () => room('room wrong type', JSON.stringify({ content: pick(WRONG_TYPES.filter((v) => typeof v !== 'string')) })),
    () => room('room blank', JSON.stringify({ content: pick(['', ' ', '\n\t ', '   \r\n']) })),
    () => room('room control chars', JSON.stringify({ content: `hi${pick(['\u0000', '\u0007', '\u001b[2J', '\u0085', '\u007f'])}there` })),
    () => room('room too long', JSON.stringify({ content: 'z'.repeat(501 + Math.floor(rand() * 3000)) })),
    () => room('room bad message id', JSON.stringify({ content: 'ok', messageId: pick(['', 'a b', 'x'.repeat(65), '../../etc', 7, null]) })),
    () => room('room unknown field', JSON.stringify({ content: 'ok', [pick(['admin', '__proto__', 'constructor', 'senderId'])]: true })),
    () => room('room no auth', JSON.stringify({ content: 'ok' }), { authorization: pick(['', 'Bearer', `Basic ${token}`, `Bearer ${token}x`, `Bearer ${nasty() || 'a.b.c'}`]) }),
    () => room('room huge', JSON.stringify({ content: 'q'.repeat(BODY_LIMIT + 10) })),
    () => room('room json array', JSON.stringify([{ content: 'ok' }])),
    () => {
      const c = room('room bad id', JSON.stringify({ content: 'ok' }));
      c.url = `/v1/rooms/${encodeURIComponent(pick(['a.b', 'room*', 'x'.repeat(65), 'sp ace', '😀']))}/messages`;
      return c;
    },
  ];

  while (cases.length < count) cases.push(pick(generators)());
  return cases;
}

describe('bad input', () => {
  const cases = generateCases(600, 20261123);

  it('answers every one of 600 generated bad requests with a 4xx and an error code, and publishes nothing', async () => {
    const before = await counts();
    const wrong: string[] = [];
    for (const [i, c] of cases.entries()) {
      const res = await server.app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: c.headers });
      const body = safeJson(res.body);
      const ok =
        res.statusCode >= 400 &&
        res.statusCode < 500 &&
        typeof body?.error?.code === 'string' &&
        typeof body?.error?.message === 'string';
      if (!ok) wrong.push(`#${i} ${c.label}: ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('covers every kind of bad input more than once', () => {
    const labels = new Map<string, number>();
    for (const c of cases) labels.set(c.label.replace(/ \w+$/, ''), (labels.get(c.label.replace(/ \w+$/, '')) ?? 0) + 1);
    expect(Math.min(...labels.values())).toBeGreaterThan(1);
  });

  it('still serves good requests afterwards', async () => {
    const text = JSON.stringify(kickChatBody('after-fuzz'));
    const res = await server.app.inject({
      method: 'POST',
      url: '/webhooks/kick',
      payload: text,
      headers: signer.headers(text, { id: 'after-fuzz', type: 'chat.message.sent', timestamp: TIMESTAMP }),
    });
    expect(res.statusCode).toBe(202);
  });
});

async function counts() {
  const { jsm } = env.messaging;
  return {
    chat: (await jsm.streams.info(env.topology.chat.stream)).state.messages,
    events: (await jsm.streams.info(env.topology.events.stream)).state.messages,
  };
}

function safeJson(text: string): { error?: { code?: unknown; message?: unknown } } | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
