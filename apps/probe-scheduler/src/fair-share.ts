/**
 * How many channels one replica may claim in a tick. The claim alone is first come, first served, and
 * replicas that tick with the same period keep their order: the one that ticks just before the other
 * takes nearly every channel that fell due in between (283/19 probes in a two-replica soak). So each
 * replica claims at most its share of the minute's work, counted over a sliding minute of its own claims:
 *
 *   budget = max(overdue, ceil(a minute of work / replicas alive) − claimed by this replica in the last minute)
 *
 * where a minute of work is what every replica claimed in the last minute plus what is due now (both from
 * the schedule: sql/count-due.ts), so the share and the replica's own count cover the same sliding minute.
 *
 * With N replicas alive (peers.ts) the first to tick stops at 1/N of the minute and leaves the rest to
 * the others. No slack above the even share: tried in share.spec.ts with replicas in lockstep, 10 % left
 * the last of three 22 % of a minute, and 5 % still 23 %, while the offline channels' five-minute bursts
 * (offline channels seeded together fall due in the same minute) swung two replicas to 64/36.
 * What the even shares leave when the estimate runs short is covered by `overdue` instead: channels due
 * for longer than the grace and unclaimed may always be taken, whatever the share. The same rule covers a
 * replica that died without a word: it is counted until its heartbeat times out, and its channels are
 * probed at most the grace late, still for their minute.
 */
export function claimBudget(options: {
  /** Channels all replicas claimed in the last minute plus those due now (unscheduled ones included). */
  minuteOfWork: number;
  /** Unclaimed channels due for longer than the overdue grace. */
  overdue: number;
  /** Replicas alive, this one included. */
  replicas: number;
  /** Channels this replica claimed in the last minute. */
  claimedLastMinute: number;
}): number {
  const share = Math.ceil(options.minuteOfWork / Math.max(1, options.replicas));
  return Math.max(0, options.overdue, share - options.claimedLastMinute);
}

/** This replica's claims over the last minute: (time, count) pairs, summed on demand. */
export interface ClaimLog {
  add(at: Date, count: number): void;
  /** Channels claimed in (`now` − 60 s, `now`]. */
  lastMinute(now: Date): number;
}

export function createClaimLog(windowMs = 60_000): ClaimLog {
  let entries: Array<{ at: number; count: number }> = [];
  return {
    add(at, count) {
      if (count > 0) entries.push({ at: at.getTime(), count });
    },
    lastMinute(now) {
      const since = now.getTime() - windowMs;
      // A clock that moved back (tests, a corrected host clock) keeps entries "in the future": drop them too.
      entries = entries.filter((e) => e.at > since && e.at <= now.getTime());
      return entries.reduce((sum, e) => sum + e.count, 0);
    },
  };
}
