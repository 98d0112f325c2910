import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export interface LoggerConfig {
  service: string;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level: string;
}

/** JSON logs on stdout, one line per event, with the service name on every line. */
export function createLogger(config: LoggerConfig, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { service: config.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never log credentials that travel in headers.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["kick-event-signature"]'],
  };
  return destination ? pino(options, destination) : pino(options);
}
