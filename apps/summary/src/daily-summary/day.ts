/** A UTC calendar day and the half-open range of instants it covers: `from` ≤ t < `to`. */
export interface UtcDay {
  /** `YYYY-MM-DD`. */
  day: string;
  /** 00:00:00.000 UTC of the day. */
  from: Date;
  /** 00:00:00.000 UTC of the next day (excluded). */
  to: Date;
}

/** A day that is not a real `YYYY-MM-DD` calendar date. */
export class InvalidDayError extends Error {
  readonly code = 'invalid_day';
  constructor(readonly day: string) {
    super(`"${day}" is not a calendar day as YYYY-MM-DD`);
    this.name = 'InvalidDayError';
  }
}

/** Parses `YYYY-MM-DD` as a UTC day; throws InvalidDayError for anything else (2026-02-30 included). */
export function utcDay(day: string): UtcDay {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new InvalidDayError(day);
  const from = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (Number.isNaN(from.getTime()) || from.toISOString().slice(0, 10) !== day) throw new InvalidDayError(day);
  return { day, from, to: new Date(from.getTime() + 86_400_000) };
}
