/** A clip command as typed in chat: `!clip [seconds]` or its alias `!echo [seconds]`. */
export interface ClipCommand {
  /** Seconds asked for, or undefined for the channel's default. */
  seconds: number | undefined;
}

/** Most chat is not a command: this byte must appear before a message is worth decoding at all. */
export const COMMAND_PREFIX_BYTE = 0x21; // '!'

const COMMAND = /^!(?:clip|echo)(?:\s+(\d{1,4})s?)?(?:\s|$)/i;

/**
 * Parses a chat line. Unknown commands and plain chat are undefined. Text after the length is a comment
 * (`!clip 45 what a play`); a word where the length would be is too (`!clip nice` = default length).
 */
export function parseClipCommand(content: string): ClipCommand | undefined {
  const text = content.trimStart();
  if (text.charCodeAt(0) !== COMMAND_PREFIX_BYTE) return undefined;
  const match = COMMAND.exec(text);
  if (!match) return undefined;
  return { seconds: match[1] === undefined ? undefined : Number(match[1]) };
}
