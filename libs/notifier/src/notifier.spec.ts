import { createServer, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotifierError } from './errors';
import { createTelegramNotifier, type TelegramNotifierOptions } from './notifier';
import { startFakeTelegram, type FakeTelegram } from './testing';

let telegram: FakeTelegram;

beforeEach(async () => {
  telegram = await startFakeTelegram();
});

afterEach(async () => {
  await telegram.close();
});

/** A notifier on the fake with a recorded, instant sleep and pino writing JSON lines into `lines`. */
function setup(overrides: Partial<TelegramNotifierOptions> = {}) {
  const sleeps: number[] = [];
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const registry = new Registry();
  const notifier = createTelegramNotifier({
    apiBase: telegram.apiBase,
    botToken: telegram.token,
    chatId: telegram.chatId,
    registry,
    logger,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { notifier, sleeps, lines, logger, registry };
}

async function failure(promise: Promise<unknown>): Promise<NotifierError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the send to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifierError);
  return err as NotifierError;
}

const statuses = () => telegram.requests.map((r) => r.status);

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

describe('sending', () => {
  it('posts the text to the chat and returns the message id', async () => {
    const { notifier, sleeps } = setup();
    expect(await notifier.send('Daily summary: 3 streams, 1 204 viewer-hours')).toEqual({ messageId: 1, messageIds: [1] });
    expect(await notifier.send('second')).toEqual({ messageId: 2, messageIds: [2] });
    expect(telegram.messages).toEqual([
      { chatId: telegram.chatId, text: 'Daily summary: 3 streams, 1 204 viewer-hours', messageId: 1, parseMode: null, linkPreviewDisabled: true },
      { chatId: telegram.chatId, text: 'second', messageId: 2, parseMode: null, linkPreviewDisabled: true },
    ]);
    expect(telegram.requests.map((r) => [r.method, r.httpMethod, r.tokenValid])).toEqual([
      ['sendMessage', 'POST', true],
      ['sendMessage', 'POST', true],
    ]);
    expect(sleeps).toEqual([]);
  });

  it('leaves link previews on when asked', async () => {
    const { notifier } = setup({ disableLinkPreview: false });
    await notifier.send('https://kick.com/onair');
    expect(telegram.messages[0]?.linkPreviewDisabled).toBe(false);
  });

  it('refuses an empty text without calling Telegram', async () => {
    const { notifier } = setup();
    await expect(notifier.send(' \n \n')).rejects.toThrow(RangeError);
    expect(telegram.requests).toHaveLength(0);
  });
});

describe('retries', () => {
  it('waits exactly what parameters.retry_after asks after a 429', async () => {
    const { notifier, sleeps, lines } = setup();
    telegram.failNext(2, 429, { retryAfterS: 7 });
    expect(await notifier.send('hello')).toEqual({ messageId: 1, messageIds: [1] });
    expect(sleeps).toEqual([7_000, 7_000]);
    expect(statuses()).toEqual([429, 429, 200]);
    expect(telegram.messages.map((m) => m.text)).toEqual(['hello']);
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'telegram sendMessage failed; retrying');
    expect(warned.map((l) => [l['status'], l['description'], l['waitMs']])).toEqual([
      [429, 'Too Many Requests: retry after 7', 7_000],
      [429, 'Too Many Requests: retry after 7', 7_000],
    ]);
  });

  it('retries 500s and a 502 HTML page with exponential backoff, then succeeds', async () => {
    const { notifier, sleeps } = setup();
    telegram.failNext(2, 500);
    telegram.failNext(1, 502);
    expect((await notifier.send('hello')).messageId).toBe(1);
    expect(statuses()).toEqual([500, 500, 502, 200]);
    expect(sleeps).toHaveLength(3);
    // Jittered within [½, 1] of 500 ms, 1 s, 2 s.
    [500, 1_000, 2_000].forEach((ceiling, i) => {
      expect(sleeps[i]).toBeGreaterThanOrEqual(ceiling / 2);
      expect(sleeps[i]).toBeLessThanOrEqual(ceiling);
    });
  });

  it('retries timeouts and dropped connections', async () => {
    const { notifier, sleeps, registry } = setup({ timeoutMs: 200 });
    telegram.failNext(1, 'timeout');
    telegram.failNext(1, 'reset');
    expect((await notifier.send('hello')).messageId).toBe(1);
    expect(statuses()).toEqual(['timeout', 'reset', 200]);
    expect(sleeps).toHaveLength(2);
    expect(await metricValue(registry, 'notifier_attempts_total', { status: 'timeout' })).toBe(1);
    expect(await metricValue(registry, 'notifier_attempts_total', { status: 'network' })).toBe(1);
  });

  it('with atMostOnce, does not repeat an attempt Telegram may have acted on, and says so', async () => {
    const { notifier } = setup({ timeoutMs: 200 });
    telegram.failNext(1, 'timeout');
    const timedOut = await failure(notifier.send('maybe posted', { atMostOnce: true }));
    expect(timedOut).toMatchObject({ code: 'unavailable', status: null, maybeDelivered: true, partsSent: 0 });
    expect(timedOut.message).toContain('not retried (at most once)');
    telegram.failNext(1, 'reset');
    expect(await failure(notifier.send('maybe posted too', { atMostOnce: true }))).toMatchObject({ code: 'unavailable', maybeDelivered: true });
    expect(statuses()).toEqual(['timeout', 'reset']);
    expect(telegram.messages).toHaveLength(0);

    // Answers that say no are still retried: Telegram did not post.
    telegram.failNext(1, 500);
    telegram.failNext(1, 429, { retryAfterS: 0 });
    expect((await notifier.send('posted once', { atMostOnce: true })).messageId).toBe(1);
    expect(statuses().slice(2)).toEqual([500, 429, 200]);
  });

  it('says whether a failed send may be in the chat anyway', async () => {
    const { notifier } = setup({ timeoutMs: 200, maxRetries: 1 });
    telegram.failNext(1, 'timeout');
    telegram.failNext(1, 500);
    // The last answer was a 500, but the first attempt's request may have been posted.
    expect(await failure(notifier.send('hello'))).toMatchObject({ code: 'unavailable', status: 500, maybeDelivered: true });
    telegram.failNext(2, 503);
    expect(await failure(notifier.send('hello again'))).toMatchObject({ code: 'unavailable', status: 503, maybeDelivered: false });
    // A port nothing listens on: the connection is refused, so nothing can have been posted.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = createTelegramNotifier({ apiBase: `http://127.0.0.1:${port}`, botToken: telegram.token, chatId: telegram.chatId, maxRetries: 0 });
    expect(await failure(refused.send('nobody listens', { atMostOnce: true }))).toMatchObject({ code: 'unavailable', maybeDelivered: false });
    expect(refused.chatId).toBe(telegram.chatId);
  });

  it('gives up after maxRetries with an unavailable NotifierError', async () => {
    const { notifier, sleeps, registry } = setup({ maxRetries: 3 });
    telegram.failNext(10, 500);
    const err = await failure(notifier.send('hello'));
    expect(err.code).toBe('unavailable');
    expect(err.status).toBe(500);
    expect(err.description).toBe('Internal Server Error');
    expect(err.message).toContain('gave up after 4 attempts');
    expect(statuses()).toEqual([500, 500, 500, 500]);
    expect(sleeps).toHaveLength(3);
    expect(telegram.messages).toEqual([]);
    expect(await metricValue(registry, 'notifier_messages_total', { outcome: 'failed' })).toBe(1);
  });

  it('defaults to 5 retries and caps the backoff at 30 s', async () => {
    const { notifier, sleeps } = setup();
    telegram.failNext(6, 503);
    expect((await failure(notifier.send('hello'))).code).toBe('unavailable');
    expect(telegram.requests).toHaveLength(6);

    telegram.clearFaults();
    const long = setup({ maxRetries: 9 });
    telegram.failNext(10, 500);
    await failure(long.notifier.send('hello'));
    expect(Math.max(...long.sleeps)).toBeLessThanOrEqual(30_000);
    expect(long.sleeps.at(-1)).toBeGreaterThanOrEqual(15_000);
    expect(sleeps).toHaveLength(5);
  });

  it('keeps the cause of a connection failure', async () => {
    const { notifier } = setup({ maxRetries: 1 });
    telegram.failNext(2, 'reset');
    const err = await failure(notifier.send('hello'));
    expect(err.code).toBe('unavailable');
    expect(err.status).toBeNull();
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('does not sleep through a flood wait longer than maxRetryAfterMs', async () => {
    const { notifier, sleeps } = setup({ maxRetryAfterMs: 60_000 });
    telegram.failNext(1, 429, { retryAfterS: 600 });
    const err = await failure(notifier.send('hello'));
    expect(err.code).toBe('unavailable');
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(600_000);
    expect(sleeps).toEqual([]);
    expect(telegram.requests).toHaveLength(1);
  });
});

describe('rejections', () => {
  it('says the token is wrong on 401 and does not retry', async () => {
    const { notifier, sleeps } = setup({ botToken: '999999:AAWrongWrongWrongWrongWrongWrongWrong' });
    const err = await failure(notifier.send('hello'));
    expect(err.code).toBe('rejected');
    expect(err.status).toBe(401);
    expect(err.description).toBe('Unauthorized');
    expect(err.message).toContain('the bot token is wrong or was revoked');
    expect(telegram.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('says the chat was not found on 400 and does not retry', async () => {
    const { notifier, sleeps, registry } = setup({ chatId: '-1009999999999' });
    const err = await failure(notifier.send('hello'));
    expect(err.code).toBe('rejected');
    expect(err.status).toBe(400);
    expect(err.description).toBe('Bad Request: chat not found');
    expect(err.message).toContain('chat -1009999999999 not found');
    expect(telegram.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(await metricValue(registry, 'notifier_messages_total', { outcome: 'failed' })).toBe(1);
    expect(await metricValue(registry, 'notifier_attempts_total', { status: '400' })).toBe(1);
  });
});

describe('long texts', () => {
  const line = (i: number) => `${String(i).padStart(4, '0')} ${'x'.repeat(95)}`; // 100 characters
  const text = Array.from({ length: 100 }, (_, i) => line(i)).join('\n'); // 10 099 characters

  it('splits on line boundaries into ordered messages of at most 4096 characters', async () => {
    const { notifier } = setup();
    const result = await notifier.send(text);
    expect(result).toEqual({ messageId: 1, messageIds: [1, 2, 3] });
    const texts = telegram.messages.map((m) => m.text);
    expect(texts).toHaveLength(3);
    for (const part of texts) expect(part.length).toBeLessThanOrEqual(4096);
    expect(texts.join('\n')).toBe(text);
    // Cut between lines: every part starts with a line number and ends with a whole line.
    for (const part of texts) expect(part).toMatch(/^\d{4} x{95}(\n\d{4} x{95})*$/);
    expect(telegram.messages.map((m) => m.messageId)).toEqual([1, 2, 3]);
  });

  it('with an idempotency key, resumes after the parts already sent', async () => {
    let calls = 0;
    const { notifier } = setup({
      maxRetries: 0,
      fetch: (input, init) => {
        // The second part meets an outage.
        if (++calls === 2) telegram.failNext(1, 500);
        return fetch(input, init);
      },
    });
    const err = await failure(notifier.send(text, { idempotencyKey: 'summary:2026-11-23' }));
    expect(err.code).toBe('unavailable');
    expect(err.partsSent).toBe(1);
    expect(telegram.messages).toHaveLength(1);

    expect(await notifier.send(text, { idempotencyKey: 'summary:2026-11-23' })).toEqual({ messageId: 1, messageIds: [1, 2, 3] });
    expect(telegram.messages.map((m) => m.text).join('\n')).toBe(text);
  });
});

describe('idempotency keys', () => {
  it('post a message once however often and however concurrently it is sent', async () => {
    const { notifier } = setup();
    const results = await Promise.all([
      notifier.send('summary', { idempotencyKey: 'k1' }),
      notifier.send('summary', { idempotencyKey: 'k1' }),
    ]);
    expect(await notifier.send('summary', { idempotencyKey: 'k1' })).toEqual(results[0]);
    expect(results[1]).toEqual(results[0]);
    expect(telegram.messages).toHaveLength(1);
    await expect(notifier.send('another text', { idempotencyKey: 'k1' })).rejects.toThrow(/different text/);
  });
});

describe('the bot token', () => {
  it('appears in no error message, cause or log line', async () => {
    const { notifier, lines, logger } = setup({ timeoutMs: 200, maxRetries: 2 });
    const token = telegram.token;
    const errors: unknown[] = [];
    const attempt = async (send: Promise<unknown>) => {
      try {
        await send;
      } catch (err) {
        errors.push(err);
        // What a caller does with the error: logs it, cause chain and all.
        logger.error({ err }, 'daily summary not delivered');
      }
    };

    telegram.failNext(1, 'timeout');
    telegram.failNext(1, 'reset');
    telegram.failNext(1, 502);
    await attempt(notifier.send('gives up after a timeout, a reset and a 502'));
    telegram.failNext(1, 429, { retryAfterS: 1 });
    await attempt(notifier.send('succeeds after a 429'));
    await attempt(createTelegramNotifier({ apiBase: telegram.apiBase, botToken: token, chatId: '@nowhere', logger }).send('chat not found'));

    // A transport error that quotes the URL, as undici's URL errors do.
    const echoing = setup({
      maxRetries: 1,
      fetch: async (input) => {
        throw new TypeError(`Failed to parse URL from ${String(input)}`, { cause: new Error(`bad path ${String(input)}`) });
      },
      logger,
    });
    await attempt(echoing.notifier.send('echoed url'));

    // The token really was used: the fake accepted it.
    expect(telegram.requests.some((r) => r.tokenValid)).toBe(true);
    expect(errors).toHaveLength(3);
    expect(lines.length).toBeGreaterThan(5);
    const everything = [
      ...lines,
      ...echoing.lines,
      ...errors.flatMap((err) => {
        const chain: string[] = [];
        for (let e: unknown = err; e instanceof Error; e = e.cause) chain.push(e.message, e.stack ?? '', JSON.stringify(e));
        return chain;
      }),
    ].join('\n');
    expect(everything).toContain('Failed to parse URL from');
    expect(everything).toContain('<redacted>');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.split(':')[1]);
  });
});

describe('metrics', () => {
  it('count messages by outcome and attempts by status', async () => {
    const { notifier, registry } = setup({ maxRetries: 1 });
    telegram.failNext(1, 429, { retryAfterS: 1 });
    await notifier.send('one');
    telegram.failNext(2, 500);
    await failure(notifier.send('two'));
    const text = await registry.metrics();
    expect(text).toContain('notifier_messages_total{outcome="sent"} 1');
    expect(text).toContain('notifier_messages_total{outcome="failed"} 1');
    expect(text).toContain('notifier_attempts_total{status="429"} 1');
    expect(text).toContain('notifier_attempts_total{status="200"} 1');
    expect(text).toContain('notifier_attempts_total{status="500"} 2');
  });

  it('share one registry between notifiers', async () => {
    const registry = new Registry();
    setup({ registry });
    const { notifier } = setup({ registry });
    await notifier.send('one');
    expect(await metricValue(registry, 'notifier_messages_total', { outcome: 'sent' })).toBe(1);
  });
});

describe('options', () => {
  it('refuse a bad token without echoing it, and a base that is not a URL', () => {
    expect(() => createTelegramNotifier({ apiBase: telegram.apiBase, botToken: '', chatId: '1' })).toThrow(RangeError);
    let refused: unknown;
    try {
      createTelegramNotifier({ apiBase: telegram.apiBase, botToken: 'a/b-secret', chatId: '1' });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(RangeError);
    expect((refused as Error).message).not.toContain('secret');
    expect(() => createTelegramNotifier({ apiBase: 'api.telegram.org', botToken: 't', chatId: '1' })).toThrow(/apiBase/);
    expect(() => createTelegramNotifier({ apiBase: telegram.apiBase, botToken: 't', chatId: ' ' })).toThrow(/chatId/);
  });
});
