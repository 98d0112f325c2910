import type { Logger } from './logger';

/** One step of an orderly stop, e.g. "stop consumers". Steps run in the order given, each at most once. */
export interface ShutdownStep {
  name: string;
  run(): Promise<void> | void;
}

export interface Shutdown {
  /** Runs every step in order; later calls return the same promise. A failing step is logged, not fatal. */
  (reason: string): Promise<void>;
}

/**
 * Builds the graceful stop of a service: HTTP answers 503 → consumers stop → NATS drains → pools end. The
 * order is the caller's; this only guarantees each step runs once, in order, and errors do not skip the rest.
 */
export function createShutdown(logger: Logger, steps: ShutdownStep[]): Shutdown {
  let running: Promise<void> | undefined;
  return (reason) => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      for (const step of steps) {
        const started = performance.now();
        try {
          await step.run();
          logger.info({ step: step.name, ms: Math.round(performance.now() - started) }, 'shutdown step done');
        } catch (error) {
          logger.error({ step: step.name, err: error }, 'shutdown step failed');
        }
      }
      logger.info('stopped');
    })();
    return running;
  };
}

/**
 * Two-stage signal handling for a composition root (libraries never call this): the first SIGTERM or
 * SIGINT starts the graceful stop, bounded by `graceMs`; a second signal, or the grace running out, exits
 * at once with code 1.
 */
export function handleSignals(shutdown: Shutdown, logger: Logger, graceMs: number): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'graceful shutdown took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    shutdown(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
