import { describe, expect, it } from 'vitest';
import { createBreaker } from './breaker';
import { KickUnavailableError } from './errors';

function setup(failureThreshold = 3, openMs = 1_000) {
  let now = 0;
  const changes: string[] = [];
  const breaker = createBreaker({ failureThreshold, openMs }, () => now, (from, to) => changes.push(`${from}>${to}`));
  const fail = () => {
    breaker.acquire();
    breaker.release('failure', new Error('boom'));
  };
  return { breaker, changes, fail, advance: (ms: number) => (now += ms) };
}

describe('breaker', () => {
  it('opens after the threshold of consecutive failures, and a success resets the count', () => {
    const { breaker, fail } = setup(3);
    fail();
    fail();
    breaker.acquire();
    breaker.release('success');
    fail();
    fail();
    expect(breaker.state()).toBe('closed');
    fail();
    expect(breaker.state()).toBe('open');
    expect(() => breaker.acquire()).toThrow(KickUnavailableError);
  });

  it('half-opens after openMs, admits one trial, and closes on its success', () => {
    const { breaker, changes, fail, advance } = setup(1, 1_000);
    fail();
    advance(999);
    expect(breaker.state()).toBe('open');
    advance(1);
    expect(breaker.state()).toBe('half_open');
    breaker.acquire();
    expect(() => breaker.acquire()).toThrow(expect.objectContaining({ name: 'KickUnavailableError', retryInMs: 0 }));
    breaker.release('success');
    expect(breaker.state()).toBe('closed');
    expect(changes).toEqual(['closed>open', 'open>half_open', 'half_open>closed']);
  });

  it('reopens for a full openMs when the trial fails', () => {
    const { breaker, fail, advance } = setup(1, 1_000);
    fail();
    advance(1_000);
    fail();
    expect(breaker.state()).toBe('open');
    advance(999);
    expect(() => breaker.acquire()).toThrow(expect.objectContaining({ retryInMs: 1 }));
  });

  it('frees the trial slot on a neutral outcome', () => {
    const { breaker, fail, advance } = setup(1, 1_000);
    fail();
    advance(1_000);
    breaker.acquire();
    breaker.release('neutral');
    expect(breaker.state()).toBe('half_open');
    expect(() => breaker.acquire()).not.toThrow();
  });
});
