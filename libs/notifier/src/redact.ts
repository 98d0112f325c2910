const MARK = '<redacted>';

/**
 * Telegram puts the bot token in the URL path (`/bot<token>/sendMessage`), so anything the HTTP layer says
 * about the URL (a parse error, a proxy error) can carry it. Returns `text` with every occurrence of the
 * token, raw or percent-encoded, replaced.
 */
export function redactText(text: string, secret: string): string {
  let out = text.split(secret).join(MARK);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join(MARK);
  return out;
}

/**
 * A copy of `err` (and of its `cause` chain) safe to keep and to log: message, stack and string properties
 * scrubbed of `secret`, name and `code` kept. Anything that is not an Error becomes one.
 */
export function redactError(err: unknown, secret: string, depth = 0): Error {
  if (!(err instanceof Error)) return new Error(redactText(String(err), secret));
  const cause = 'cause' in err && err.cause !== undefined && depth < 5 ? redactError(err.cause, secret, depth + 1) : undefined;
  const copy = new Error(redactText(err.message, secret), cause === undefined ? undefined : { cause });
  copy.name = err.name;
  copy.stack = err.stack === undefined ? undefined : redactText(err.stack, secret);
  for (const [key, value] of Object.entries(err)) {
    if (key === 'cause') continue;
    if (typeof value === 'string') Object.assign(copy, { [key]: redactText(value, secret) });
    else if (typeof value === 'number' || typeof value === 'boolean') Object.assign(copy, { [key]: value });
  }
  return copy;
}
