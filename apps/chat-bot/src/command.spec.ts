import { describe, expect, it } from 'vitest';
import { parseClipCommand } from './command';

describe('parseClipCommand', () => {
  it.each([
    ['!clip', undefined],
    ['!echo', undefined],
    ['!CLIP 45', 45],
    ['!echo 120', 120],
    ['  !clip 30s', 30],
    ['!clip 45 what a play', 45],
    ['!clip nice one', undefined],
    ['!clip 9999', 9999],
  ])('%j asks for %s seconds', (content, seconds) => {
    expect(parseClipCommand(content)).toEqual({ seconds });
  });

  it.each(['hello', '!clipper', '!echoes 3', '!help', 'clip 30', '', '!', 'say !clip'])('%j is not a clip command', (content) => {
    expect(parseClipCommand(content)).toBeUndefined();
  });
});
