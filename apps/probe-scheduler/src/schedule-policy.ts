const MINUTE = 60_000;

/** UTC minute holding `at`. */
export function floorMinute(at: Date | number): Date {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(ms - (ms % MINUTE));
}

/**
 * Where inside its minute a channel is probed: a stable offset (0–59 s) from its id, so 10,000 channels
 * spread over the minute instead of all falling due at :00.
 */
export function channelOffsetMs(channelId: number): number {
  return ((channelId * 7919) % 60) * 1000;
}

/**
 * The minute a probe stands for: the minute it was due, when it runs within a minute of that (a tick
 * every few seconds lands a probe due at :59 in the next minute, and that must not skip a minute);
 * the minute it runs otherwise (after an outage, a probe of now is not a probe of then).
 */
export function probeMinute(dueAt: Date, now: Date): Date {
  return now.getTime() - dueAt.getTime() < MINUTE ? floorMinute(dueAt) : floorMinute(now);
}

/**
 * When to probe a channel next. Live: the next cadence minute, at the channel's offset — so each live
 * minute gets exactly one probe. Offline: `offlineMinutes` later. After an error: exponential backoff
 * from the cadence (2, 4, 8 … minutes, at most 30), so a failing platform is not hammered.
 */
export function nextProbeAt(options: {
  now: Date;
  /** The minute the probe just made stands for (see probeMinute); defaults to now's minute. */
  slot?: Date;
  outcome: 'live' | 'offline' | 'error';
  consecutiveFailures: number;
  liveMinutes: number;
  offlineMinutes: number;
  channelId: number;
}): Date {
  const minutes =
    options.outcome === 'live'
      ? options.liveMinutes
      : options.outcome === 'offline'
        ? options.offlineMinutes
        : Math.min(30, options.liveMinutes * 2 ** Math.min(options.consecutiveFailures, 5));
  const offset = channelOffsetMs(options.channelId);
  const next = floorMinute(options.slot ?? options.now).getTime() + minutes * MINUTE + offset;
  // A late probe must not schedule the next one in the past (it would run twice in a minute's slot).
  return new Date(next > options.now.getTime() ? next : floorMinute(options.now).getTime() + minutes * MINUTE + offset);
}
