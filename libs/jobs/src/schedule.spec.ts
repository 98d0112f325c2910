import { describe, expect, it } from 'vitest';
import { daily, everyMinutes, hourly, previousUtcDay } from './schedule';

/**
 * Schedules at the calendar's edges, every instant given (never today's date): the last millisecond or
 * seconds of a month, of a year and of a leap day, and the instant after each. Expected values are
 * written out by hand, not computed by the code under test.
 */
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();

describe('daily at 00:05 UTC and the day it summarises (previousUtcDay)', () => {
  const schedule = daily({ hour: 0, minute: 5 });
  it.each([
    // now                          latest occurrence              the day that run covers
    ['2026-11-30T23:59:59.999Z', '2026-11-30T00:05:00.000Z', '2026-11-29'],
    ['2026-12-01T00:00:00.000Z', '2026-11-30T00:05:00.000Z', '2026-11-29'],
    ['2026-12-01T00:04:59.999Z', '2026-11-30T00:05:00.000Z', '2026-11-29'],
    ['2026-12-01T00:05:00.000Z', '2026-12-01T00:05:00.000Z', '2026-11-30'],
    ['2026-12-31T23:59:50.000Z', '2026-12-31T00:05:00.000Z', '2026-12-30'],
    ['2027-01-01T00:00:00.000Z', '2026-12-31T00:05:00.000Z', '2026-12-30'],
    ['2027-01-01T00:05:00.000Z', '2027-01-01T00:05:00.000Z', '2026-12-31'],
    ['2027-01-31T23:59:59.000Z', '2027-01-31T00:05:00.000Z', '2027-01-30'],
    ['2027-02-01T00:00:00.000Z', '2027-01-31T00:05:00.000Z', '2027-01-30'],
    ['2027-02-01T00:05:00.000Z', '2027-02-01T00:05:00.000Z', '2027-01-31'],
    ['2028-02-29T23:59:50.000Z', '2028-02-29T00:05:00.000Z', '2028-02-28'],
    ['2028-02-29T23:59:59.999Z', '2028-02-29T00:05:00.000Z', '2028-02-28'],
    ['2028-03-01T00:00:00.000Z', '2028-02-29T00:05:00.000Z', '2028-02-28'],
    ['2028-03-01T00:05:00.000Z', '2028-03-01T00:05:00.000Z', '2028-02-29'],
    // A non-leap year has no 29 February: the day after the 28th is 1 March.
    ['2027-03-01T00:05:00.000Z', '2027-03-01T00:05:00.000Z', '2027-02-28'],
  ])('at %s the latest run is %s, covering %s', (now, latest, day) => {
    const occurrence = schedule.latest(at(now));
    expect(iso(occurrence)).toBe(latest);
    expect(previousUtcDay(occurrence)).toBe(day);
  });
});

describe('hourly and every-n-minutes occurrences (the default period key is the occurrence)', () => {
  it.each([
    // now                         hourly :00                     hourly :30                     every 15 min                   every minute
    ['2026-11-30T23:59:59.999Z', '2026-11-30T23:00:00.000Z', '2026-11-30T23:30:00.000Z', '2026-11-30T23:45:00.000Z', '2026-11-30T23:59:00.000Z'],
    ['2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2026-11-30T23:30:00.000Z', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-31T23:59:50.000Z', '2026-12-31T23:00:00.000Z', '2026-12-31T23:30:00.000Z', '2026-12-31T23:45:00.000Z', '2026-12-31T23:59:00.000Z'],
    ['2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2026-12-31T23:30:00.000Z', '2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-31T23:59:59.000Z', '2027-01-31T23:00:00.000Z', '2027-01-31T23:30:00.000Z', '2027-01-31T23:45:00.000Z', '2027-01-31T23:59:00.000Z'],
    ['2027-02-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z', '2027-01-31T23:30:00.000Z', '2027-02-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2028-02-29T23:59:50.000Z', '2028-02-29T23:00:00.000Z', '2028-02-29T23:30:00.000Z', '2028-02-29T23:45:00.000Z', '2028-02-29T23:59:00.000Z'],
    ['2028-02-29T23:59:59.999Z', '2028-02-29T23:00:00.000Z', '2028-02-29T23:30:00.000Z', '2028-02-29T23:45:00.000Z', '2028-02-29T23:59:00.000Z'],
    ['2028-03-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z', '2028-02-29T23:30:00.000Z', '2028-03-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['2028-03-01T00:30:00.000Z', '2028-03-01T00:00:00.000Z', '2028-03-01T00:30:00.000Z', '2028-03-01T00:30:00.000Z', '2028-03-01T00:30:00.000Z'],
  ])('at %s', (now, hourlyAt00, hourlyAt30, every15, everyMinute) => {
    expect(iso(hourly().latest(at(now)))).toBe(hourlyAt00);
    expect(iso(hourly({ minute: 30 }).latest(at(now)))).toBe(hourlyAt30);
    expect(iso(everyMinutes(15).latest(at(now)))).toBe(every15);
    expect(iso(everyMinutes(1).latest(at(now)))).toBe(everyMinute);
  });

  it('daily at another hour keeps to UTC whatever the date', () => {
    const sixThirty = daily({ hour: 6, minute: 30 });
    expect(iso(sixThirty.latest(at('2028-03-01T06:29:59.999Z')))).toBe('2028-02-29T06:30:00.000Z');
    expect(iso(sixThirty.latest(at('2028-03-01T06:30:00.000Z')))).toBe('2028-03-01T06:30:00.000Z');
    expect(iso(sixThirty.latest(at('2027-01-01T00:00:00.000Z')))).toBe('2026-12-31T06:30:00.000Z');
  });
});
