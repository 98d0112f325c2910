import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP status to answer with (429 carries `parameters.retry_after`; 502 is an HTML page, as the proxy in
 * front of api.telegram.org sends), `timeout` (hold the request, never answer) or `reset` (drop the
 * connection).
 */
export type FakeTelegramFault = 429 | 500 | 502 | 503 | 'timeout' | 'reset';

/** A message the fake accepted, as `sendMessage` received it. */
export interface FakeTelegramMessage {
  chatId: string;
  text: string;
  messageId: number;
  parseMode: string | null;
  /** `link_preview_options.is_disabled`, or the older `disable_web_page_preview`. */
  linkPreviewDisabled: boolean;
}

/** Every request in arrival order, with what it was answered. The path is not kept: it holds the token. */
export interface FakeTelegramRequest {
  /** The Bot API method named in the path (`sendMessage`), or null when the path is not `/bot<token>/<method>`. */
  method: string | null;
  httpMethod: string;
  tokenValid: boolean;
  status: number | 'timeout' | 'reset';
}

export interface FakeTelegramOptions {
  /** The one token the fake accepts. Default `123456789:AAFakeFakeFakeFakeFakeFakeFakeFakeFake`. */
  token?: string;
  /** A chat that exists from the start. Default `-1001234567890` (a supergroup id). */
  chatId?: string;
}

export interface FakeTelegram {
  /** Base URL for `apiBase` (`http://127.0.0.1:<port>`). */
  readonly apiBase: string;
  readonly token: string;
  readonly chatId: string;
  /** Makes `chatId` a chat the bot can post to (numeric id or `@username`). */
  addChat(chatId: string): void;
  /**
   * The next `n` requests that reach a method fail with `fault` instead of being served. Faults queue up
   * in the order they were added. `retryAfterS` is the 429's `parameters.retry_after` (default 3).
   */
  failNext(n: number, fault: FakeTelegramFault, options?: { retryAfterS?: number }): void;
  /** Drops the faults still queued: the server answers normally again. */
  clearFaults(): void;
  /**
   * The next message the fake accepts is posted (it is in `messages` at once) but its answer waits for
   * `release()`: the moment between Telegram posting a message and its sender learning of it, in which a
   * test can stop or kill the sender. `accepted` resolves when the message arrives. Holds queue up;
   * `match` limits a hold to the messages it accepts (others are answered at once).
   */
  holdNextAnswer(options?: { match?: (message: FakeTelegramMessage) => boolean }): HeldAnswer;
  /** Messages accepted, in order. */
  readonly messages: readonly FakeTelegramMessage[];
  readonly requests: readonly FakeTelegramRequest[];
  close(): Promise<void>;
}

export interface HeldAnswer {
  readonly accepted: Promise<FakeTelegramMessage>;
  /** Sends the held answer (a no-op once the connection is gone). */
  release(): void;
}

interface PendingHold {
  match: (message: FakeTelegramMessage) => boolean;
  accept(message: FakeTelegramMessage): void;
  released: Promise<void>;
}

interface QueuedFault {
  fault: FakeTelegramFault;
  retryAfterS: number;
}

const MAX_TEXT = 4096;
const BOT_ID = 123456789;
const PATH = /^\/bot([^/]*)\/([A-Za-z]+)\/?$/;

/**
 * A local HTTP server speaking the Telegram Bot API wire format for `sendMessage` (core.telegram.org/bots/api):
 * `/bot<token>/<method>` (method names case-insensitive), parameters as JSON, form or query string,
 * `{ ok: true, result }` or `{ ok: false, error_code, description, parameters? }`; 401 `Unauthorized` for
 * another token, 404 `Not Found` for other paths and methods, 400 `Bad Request: chat not found`,
 * `Bad Request: message text is empty` and `Bad Request: message is too long` (over 4096 characters).
 */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = options.token ?? `${BOT_ID}:AAFakeFakeFakeFakeFakeFakeFakeFakeFake`;
  const chatId = options.chatId ?? '-1001234567890';
  const chats = new Set<string>([chatId]);
  const nextMessageId = new Map<string, number>();
  const faults: QueuedFault[] = [];
  const holds: PendingHold[] = [];
  const messages: FakeTelegramMessage[] = [];
  const requests: FakeTelegramRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.telegram');
    const body = await readBody(req);
    const match = PATH.exec(url.pathname);
    const record: FakeTelegramRequest = { method: match?.[2] ?? null, httpMethod: req.method ?? 'GET', tokenValid: match?.[1] === token, status: 0 };
    requests.push(record);
    const reply = (status: number, payload: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const fail = (status: number, description: string, parameters?: Record<string, unknown>) =>
      reply(status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });

    if (!match) return fail(404, 'Not Found');
    const queued = faults.shift();
    if (queued) {
      if (queued.fault === 'timeout') {
        // Never answered; close() destroys the socket.
        record.status = 'timeout';
        return;
      }
      if (queued.fault === 'reset') {
        record.status = 'reset';
        req.socket.destroy();
        return;
      }
      if (queued.fault === 429) {
        return fail(429, `Too Many Requests: retry after ${queued.retryAfterS}`, { retry_after: queued.retryAfterS });
      }
      if (queued.fault === 502) {
        record.status = 502;
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n');
        return;
      }
      return fail(queued.fault, queued.fault === 500 ? 'Internal Server Error' : 'Service Unavailable');
    }

    if (match[1] !== token) return fail(401, 'Unauthorized');
    if ((match[2] ?? '').toLowerCase() !== 'sendmessage') return fail(404, 'Not Found: method not found');
    if (record.httpMethod !== 'POST' && record.httpMethod !== 'GET') return fail(405, 'Method Not Allowed');

    const params = readParams(url, req.headers['content-type'] ?? '', body);
    if (params === null) return fail(400, "Bad Request: can't parse JSON object");
    const chat = params['chat_id'];
    const target = typeof chat === 'number' || typeof chat === 'string' ? String(chat).trim() : '';
    if (target === '') return fail(400, 'Bad Request: chat_id is empty');
    const text = typeof params['text'] === 'string' ? params['text'] : typeof params['text'] === 'number' ? String(params['text']) : '';
    if (text.trim() === '') return fail(400, 'Bad Request: message text is empty');
    if (!chats.has(target)) return fail(400, 'Bad Request: chat not found');
    if (text.length > MAX_TEXT) return fail(400, 'Bad Request: message is too long');
    const parseMode = typeof params['parse_mode'] === 'string' && params['parse_mode'] !== '' ? params['parse_mode'] : null;
    if (parseMode !== null && !['html', 'markdown', 'markdownv2'].includes(parseMode.toLowerCase())) {
      return fail(400, 'Bad Request: unsupported parse_mode');
    }

    const messageId = nextMessageId.get(target) ?? 1;
    nextMessageId.set(target, messageId + 1);
    const preview = objectParam(params['link_preview_options']);
    const linkPreviewDisabled = preview?.['is_disabled'] === true || params['disable_web_page_preview'] === true || params['disable_web_page_preview'] === 'true';
    const message: FakeTelegramMessage = { chatId: target, text, messageId, parseMode, linkPreviewDisabled };
    messages.push(message);
    const held = holds.findIndex((h) => h.match(message));
    const hold = held === -1 ? undefined : holds.splice(held, 1)[0];
    if (hold) {
      hold.accept(message);
      await hold.released;
    }
    const numeric = /^-?\d+$/.test(target);
    return reply(200, {
      ok: true,
      result: {
        message_id: messageId,
        from: { id: BOT_ID, is_bot: true, first_name: 'onair', username: 'onair_fake_bot' },
        chat: numeric
          ? { id: Number(target), title: 'onair', type: target.startsWith('-100') ? 'supergroup' : target.startsWith('-') ? 'group' : 'private' }
          : { id: -1009876543210, title: 'onair', username: target.replace(/^@/, ''), type: 'channel' },
        date: Math.floor(Date.now() / 1000),
        text,
      },
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    apiBase: `http://127.0.0.1:${port}`,
    token,
    chatId,
    addChat: (id) => chats.add(id),
    failNext(n, fault, faultOptions = {}) {
      for (let i = 0; i < n; i++) faults.push({ fault, retryAfterS: faultOptions.retryAfterS ?? 3 });
    },
    clearFaults() {
      faults.length = 0;
    },
    holdNextAnswer(holdOptions = {}) {
      let accept!: (message: FakeTelegramMessage) => void;
      let release!: () => void;
      const accepted = new Promise<FakeTelegramMessage>((resolve) => (accept = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ match: holdOptions.match ?? (() => true), accept, released });
      return { accepted, release };
    },
    messages,
    requests,
    async close() {
      // Held ("timeout") requests and idle keep-alive connections would keep close() waiting.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Bot API parameters from the query string, then a JSON or form body (the body wins). */
function readParams(url: URL, contentType: string, body: string): Record<string, unknown> | null {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body.length === 0) return params;
  if (contentType.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
      return { ...params, ...(parsed as Record<string, unknown>) };
    } catch {
      return null;
    }
  }
  if (contentType.includes('application/x-www-form-urlencoded')) return { ...params, ...Object.fromEntries(new URLSearchParams(body)) };
  return params;
}

/** Object parameters arrive as objects in JSON and as JSON-serialised strings in forms and query strings. */
function objectParam(value: unknown): Record<string, unknown> | null {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
