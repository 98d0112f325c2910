/**
 * Telegram's limit on `sendMessage` text: "1-4096 characters after entities parsing". Lengths here are
 * UTF-16 code units (`string.length`), which is never less than the number of characters, so a part that
 * fits by this measure fits by Telegram's.
 */
export const TELEGRAM_MAX_MESSAGE_LENGTH = 4096;

/**
 * Splits `text` into parts of at most `limit` UTF-16 units, cutting only between lines. A single line longer
 * than `limit` is cut at its last space that fits (or, with none, at `limit`, never inside a surrogate
 * pair). The newline or space at a cut is dropped; every other character is kept, in order. Parts that would be only
 * whitespace are left out, since Telegram refuses an empty message.
 */
export function splitMessage(text: string, limit: number = TELEGRAM_MAX_MESSAGE_LENGTH): string[] {
  if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`split limit must be an integer of at least 2, got ${limit}`);
  const parts: string[] = [];
  let current: string | null = null;
  const flush = () => {
    if (current !== null && current.trim().length > 0) parts.push(current);
    current = null;
  };
  for (const line of text.split('\n')) {
    for (const piece of cutLine(line, limit)) {
      if (current === null) current = piece;
      else if (current.length + 1 + piece.length <= limit) current += `\n${piece}`;
      else {
        flush();
        current = piece;
      }
    }
  }
  flush();
  return parts;
}

function cutLine(line: string, limit: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > limit) {
    const space = rest.lastIndexOf(' ', limit);
    if (space > 0) {
      pieces.push(rest.slice(0, space));
      rest = rest.slice(space + 1);
      continue;
    }
    const code = rest.charCodeAt(limit - 1);
    const cut = code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}
