/** When a job is due: `latest(now)` is the most recent scheduled instant at or before `now` (UTC). */
export interface Schedule {
  latest(now: Date): Date;
  /** For logs and the jobs API, e.g. "daily at 00:05 UTC". */
  readonly description: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Every day at hour:minute UTC. */
export function daily(at: { hour: number; minute: number }): Schedule {
  const offset = at.hour * HOUR + at.minute * MINUTE;
  return {
    description: `daily at ${String(at.hour).padStart(2, '0')}:${String(at.minute).padStart(2, '0')} UTC`,
    latest(now) {
      const t = now.getTime() - offset;
      return new Date(t - (((t % DAY) + DAY) % DAY) + offset);
    },
  };
}

/** Every hour at the given minute. */
export function hourly(at: { minute: number } = { minute: 0 }): Schedule {
  const offset = at.minute * MINUTE;
  return {
    description: `hourly at :${String(at.minute).padStart(2, '0')}`,
    latest(now) {
      const t = now.getTime() - offset;
      return new Date(t - (((t % HOUR) + HOUR) % HOUR) + offset);
    },
  };
}

/** Every n minutes, aligned to the epoch (so every replica computes the same instants). */
export function everyMinutes(n: number): Schedule {
  const step = n * MINUTE;
  return {
    description: `every ${n} minutes`,
    latest(now) {
      return new Date(now.getTime() - (now.getTime() % step));
    },
  };
}

/** The UTC day (YYYY-MM-DD) before the occurrence: what a run just after midnight summarises. */
export function previousUtcDay(occurrence: Date): string {
  return new Date(occurrence.getTime() - DAY).toISOString().slice(0, 10);
}
