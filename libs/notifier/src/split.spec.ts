import { describe, expect, it } from 'vitest';
import { splitMessage, TELEGRAM_MAX_MESSAGE_LENGTH } from './split';

describe('splitMessage', () => {
  it('leaves a text that fits alone', () => {
    expect(splitMessage('a\nb')).toEqual(['a\nb']);
    expect(splitMessage('x'.repeat(TELEGRAM_MAX_MESSAGE_LENGTH))).toEqual(['x'.repeat(TELEGRAM_MAX_MESSAGE_LENGTH)]);
  });

  it('cuts between lines, filling each part', () => {
    expect(splitMessage('aaa\nbbb\nccc\ndd', 8)).toEqual(['aaa\nbbb', 'ccc\ndd']);
    expect(splitMessage('aaaa\nbbb', 8)).toEqual(['aaaa\nbbb']);
    expect(splitMessage('aaaa\nbbbb', 8)).toEqual(['aaaa', 'bbbb']);
  });

  it('cuts a line longer than the limit at its last space, or hard at the limit', () => {
    expect(splitMessage('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(splitMessage('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('never cuts a surrogate pair', () => {
    const parts = splitMessage('abc😀def', 4);
    expect(parts).toEqual(['abc', '😀de', 'f']);
    expect(parts.join('')).toBe('abc😀def');
  });

  it('drops parts that would be only whitespace and keeps blank lines inside parts', () => {
    expect(splitMessage('aaaa\n\n\n\nbbbb', 4)).toEqual(['aaaa', 'bbbb']);
    expect(splitMessage('a\n\nb', 10)).toEqual(['a\n\nb']);
    expect(splitMessage('  \n \n')).toEqual([]);
  });
});
