import { describe, expect, it } from 'vitest';
import { channelOffsetMs, floorMinute, nextProbeAt, probeMinute } from './schedule-policy';

/**
 * Probe minutes and stream-start flooring at the calendar's edges: the last millisecond or seconds of a
 * month, of a year and of a leap day, and the instant after each. Every instant is given; expected
 * values are written out by hand.
 */
const at = (iso: string) => new Date(iso);

describe('floorMinute (probe minutes, and stream starts as Kick reports them)', () => {
  it.each([
    ['2026-11-30T23:59:59.999Z', '2026-11-30T23:59:00.000Z'],
    ['2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T00:00:00.001Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-31T23:59:50.000Z', '2026-12-31T23:59:00.000Z'],
    ['2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-31T23:59:59.000Z', '2027-01-31T23:59:00.000Z'],
    ['2027-02-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2028-02-29T23:59:50.000Z', '2028-02-29T23:59:00.000Z'],
    ['2028-02-29T23:59:59.999Z', '2028-02-29T23:59:00.000Z'],
    ['2028-03-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('%s → %s', (instant, minute) => {
    expect(floorMinute(at(instant)).toISOString()).toBe(minute);
    expect(floorMinute(Date.parse(instant)).toISOString()).toBe(minute);
  });

  it('floors a stream start in the form Kick sends it (offset, no milliseconds)', () => {
    expect(floorMinute(new Date('2028-02-29T23:59:59+00:00')).toISOString()).toBe('2028-02-29T23:59:00.000Z');
    expect(floorMinute(new Date('2028-03-01T00:00:00+00:00')).toISOString()).toBe('2028-03-01T00:00:00.000Z');
    expect(floorMinute(new Date('2027-01-01T01:00:30+01:00')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});

describe('probeMinute: the minute a probe stands for', () => {
  it.each([
    // due                           run at                         stands for
    ['2026-11-30T23:59:59.999Z', '2026-12-01T00:00:00.000Z', '2026-11-30T23:59:00.000Z'],
    ['2026-12-31T23:59:50.000Z', '2026-12-31T23:59:55.000Z', '2026-12-31T23:59:00.000Z'],
    ['2026-12-31T23:59:50.000Z', '2027-01-01T00:00:03.000Z', '2026-12-31T23:59:00.000Z'],
    ['2027-01-31T23:59:59.000Z', '2027-02-01T00:00:58.999Z', '2027-01-31T23:59:00.000Z'],
    ['2027-01-31T23:59:59.000Z', '2027-02-01T00:00:59.000Z', '2027-02-01T00:00:00.000Z'],
    ['2028-02-29T23:59:50.000Z', '2028-02-29T23:59:50.000Z', '2028-02-29T23:59:00.000Z'],
    ['2028-02-29T23:59:50.000Z', '2028-03-01T00:00:03.000Z', '2028-02-29T23:59:00.000Z'],
    ['2028-02-29T23:59:50.000Z', '2028-03-01T00:00:49.999Z', '2028-02-29T23:59:00.000Z'],
    // A minute or more late (an outage): the probe is of now, not of then.
    ['2028-02-29T23:59:50.000Z', '2028-03-01T00:00:50.000Z', '2028-03-01T00:00:00.000Z'],
    ['2028-02-29T23:58:00.000Z', '2028-03-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('due %s, run at %s → %s', (due, now, minute) => {
    expect(probeMinute(at(due), at(now)).toISOString()).toBe(minute);
  });
});

describe('nextProbeAt across the edges', () => {
  it('spreads channels over the minute by id', () => {
    expect(channelOffsetMs(0)).toBe(0);
    expect(channelOffsetMs(1)).toBe(59_000); // 7919 mod 60 = 59
  });

  const cadence = { liveMinutes: 1, offlineMinutes: 5 };
  it.each([
    // now                          slot (the probe's minute)      channel outcome  failures  next
    ['2026-11-30T23:59:59.999Z', undefined, 0, 'live', 0, '2026-12-01T00:00:00.000Z'],
    ['2026-12-31T23:59:50.000Z', undefined, 1, 'live', 0, '2027-01-01T00:00:59.000Z'],
    ['2026-12-31T23:59:50.000Z', undefined, 1, 'offline', 0, '2027-01-01T00:04:59.000Z'],
    ['2027-01-31T23:59:59.000Z', undefined, 0, 'offline', 0, '2027-02-01T00:04:00.000Z'],
    ['2027-01-31T23:59:59.000Z', undefined, 0, 'error', 1, '2027-02-01T00:01:00.000Z'],
    ['2028-02-29T23:59:50.000Z', undefined, 1, 'live', 0, '2028-03-01T00:00:59.000Z'],
    ['2028-02-29T23:59:50.000Z', undefined, 1, 'error', 1, '2028-03-01T00:01:59.000Z'],
    ['2028-02-29T23:59:50.000Z', undefined, 1, 'error', 9, '2028-03-01T00:29:59.000Z'], // backoff capped at 30 minutes,
    // Run 3 s after midnight for the 23:59 slot: the next live minute is 00:00 at the channel's offset …
    ['2028-03-01T00:00:03.000Z', '2028-02-29T23:59:00.000Z', 1, 'live', 0, '2028-03-01T00:00:59.000Z'],
    // … unless that is already past: then the minute after now's.
    ['2028-03-01T00:00:03.000Z', '2028-02-29T23:59:00.000Z', 0, 'live', 0, '2028-03-01T00:01:00.000Z'],
  ] as const)('at %s (slot %s), channel %i %s after %i failures → %s', (now, slot, channelId, outcome, failures, next) => {
    const options = { ...cadence, now: at(now), outcome, consecutiveFailures: failures, channelId, ...(slot ? { slot: at(slot) } : {}) };
    expect(nextProbeAt(options).toISOString()).toBe(next);
  });
});
