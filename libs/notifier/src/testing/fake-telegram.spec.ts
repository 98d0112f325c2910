import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from './fake-telegram';

let telegram: FakeTelegram;

beforeEach(async () => {
  telegram = await startFakeTelegram({ token: '42:AAtest' });
});

afterEach(async () => {
  await telegram.close();
});

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${telegram.apiBase}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('fake Telegram Bot API', () => {
  it('answers sendMessage with the sent Message', async () => {
    const { status, body } = await call('/bot42:AAtest/sendMessage', json({ chat_id: Number(telegram.chatId), text: 'hi' }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, result: { message_id: 1, text: 'hi', chat: { id: -1001234567890, type: 'supergroup' }, from: { is_bot: true } } });
    expect(telegram.messages).toEqual([{ chatId: '-1001234567890', text: 'hi', messageId: 1, parseMode: null, linkPreviewDisabled: false }]);
  });

  it('can post a message and hold its answer until released', async () => {
    const held = telegram.holdNextAnswer();
    const answer = call('/bot42:AAtest/sendMessage', json({ chat_id: telegram.chatId, text: 'held' }));
    expect((await held.accepted).text).toBe('held');
    expect(telegram.messages).toHaveLength(1);
    expect(telegram.requests[0]!.status).toBe(0); // not answered yet
    held.release();
    expect(await answer).toMatchObject({ status: 200, body: { ok: true, result: { message_id: 1 } } });
    expect(telegram.requests[0]!.status).toBe(200);
  });

  it('takes form and query-string parameters and method names in any case', async () => {
    telegram.addChat('@onair_news');
    const form: RequestInit = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: '@onair_news', text: 'form', disable_web_page_preview: 'true' }).toString(),
    };
    expect((await call('/bot42:AAtest/SENDMESSAGE', form)).status).toBe(200);
    expect((await call(`/bot42:AAtest/sendmessage?chat_id=${telegram.chatId}&text=query`)).status).toBe(200);
    expect(telegram.messages.map((m) => [m.chatId, m.text, m.linkPreviewDisabled])).toEqual([
      ['@onair_news', 'form', true],
      [telegram.chatId, 'query', false],
    ]);
  });

  it('refuses what Telegram refuses, in its envelope', async () => {
    const send = (path: string, body: unknown) => call(path, json(body));
    expect(await send('/bot42:AAwrong/sendMessage', { chat_id: telegram.chatId, text: 'x' })).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect((await send('/bot42:AAtest/sendMessage', { chat_id: '-100777', text: 'x' })).body).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: chat not found',
    });
    expect((await send('/bot42:AAtest/sendMessage', { chat_id: telegram.chatId, text: 'x'.repeat(4097) })).body['description']).toBe(
      'Bad Request: message is too long',
    );
    expect((await send('/bot42:AAtest/sendMessage', { chat_id: telegram.chatId, text: 'x'.repeat(4096) })).status).toBe(200);
    expect((await send('/bot42:AAtest/sendMessage', { chat_id: telegram.chatId, text: ' ' })).body['description']).toBe(
      'Bad Request: message text is empty',
    );
    expect((await send('/bot42:AAtest/getNothing', {})).status).toBe(404);
    expect((await send('/sendMessage', {})).status).toBe(404);
  });

  it('injects faults in order and forgets them on clearFaults', async () => {
    telegram.failNext(1, 429, { retryAfterS: 12 });
    telegram.failNext(1, 500);
    const ok = json({ chat_id: telegram.chatId, text: 'x' });
    expect(await call('/bot42:AAtest/sendMessage', ok)).toEqual({
      status: 429,
      body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 12', parameters: { retry_after: 12 } },
    });
    expect((await call('/bot42:AAtest/sendMessage', ok)).status).toBe(500);
    telegram.failNext(1, 502);
    const gateway = await fetch(`${telegram.apiBase}/bot42:AAtest/sendMessage`, ok);
    expect([gateway.status, (await gateway.text()).includes('502 Bad Gateway')]).toEqual([502, true]);
    telegram.failNext(3, 'reset');
    telegram.clearFaults();
    expect((await call('/bot42:AAtest/sendMessage', ok)).status).toBe(200);
    expect(telegram.requests.map((r) => r.status)).toEqual([429, 500, 502, 200]);
  });
});
