import type { Logger } from './logger';

export interface Periodic {
  /** Stops after the tick in progress (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `tick` every `intervalMs` plus a random 0–`jitterMs`, so replicas started together drift apart
 * instead of acting in lockstep. A tick never overlaps the next: an overrun only delays it, which is
 * what node-cron got wrong. A failed tick is logged and the loop goes on.
 */
export function startPeriodic(options: {
  /** Named in the log line of a failed tick. */
  name: string;
  tick: () => Promise<unknown>;
  intervalMs: number;
  jitterMs: number;
  logger: Logger;
}): Periodic {
  let stopped = false;
  let wake: (() => void) | undefined;
  const done = (async () => {
    while (!stopped) {
      try {
        await options.tick();
      } catch (error) {
        options.logger.error({ err: error, task: options.name }, 'periodic task failed');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalMs + Math.random() * options.jitterMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
