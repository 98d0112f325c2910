import { KickUnavailableError } from './errors';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What a finished call says about Kick's health. `neutral` says nothing (e.g. our own credentials were refused). */
export type BreakerOutcome = 'success' | 'failure' | 'neutral';

export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker. */
  failureThreshold: number;
  /** How long, in ms, the breaker stays open before it lets one test call through. */
  openMs: number;
}

export interface Breaker {
  /** Takes a slot for one call, or throws KickUnavailableError without any I/O. */
  acquire(): void;
  /** Reports how the call that took a slot ended. Call exactly once per acquire(). */
  release(outcome: BreakerOutcome, cause?: unknown): void;
  state(): BreakerState;
}

/**
 * A consecutive-failure circuit breaker on an injectable clock. Open → half-open happens lazily when
 * the clock is read, so no timer keeps the process alive and tests move time by moving `now`.
 * Half-open admits exactly one call; everything else is refused until that call reports back.
 */
export function createBreaker(
  options: BreakerOptions,
  now: () => number,
  onChange: (from: BreakerState, to: BreakerState, cause: unknown) => void = () => undefined,
): Breaker {
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;
  let lastCause: unknown;

  const move = (to: BreakerState, cause?: unknown) => {
    if (to === state) return;
    const from = state;
    state = to;
    onChange(from, to, cause);
  };

  const current = (): BreakerState => {
    if (state === 'open' && now() - openedAt >= options.openMs) move('half_open');
    return state;
  };

  const open = (cause: unknown) => {
    openedAt = now();
    lastCause = cause;
    move('open', cause);
  };

  return {
    acquire() {
      const s = current();
      if (s === 'open') throw new KickUnavailableError(Math.max(1, openedAt + options.openMs - now()), { cause: lastCause });
      if (s === 'half_open') {
        if (trialInFlight) throw new KickUnavailableError(0, { cause: lastCause });
        trialInFlight = true;
      }
    },
    release(outcome, cause) {
      const wasTrial = state === 'half_open' && trialInFlight;
      if (wasTrial) trialInFlight = false;
      if (outcome === 'success') {
        failures = 0;
        move('closed');
      } else if (outcome === 'failure') {
        failures += 1;
        // A failed trial reopens at once: one bad answer after the pause is enough evidence.
        if (wasTrial || (state === 'closed' && failures >= options.failureThreshold)) open(cause);
      }
      // A neutral outcome of a trial leaves the breaker half-open with the slot free for the next caller.
    },
    state: current,
  };
}
