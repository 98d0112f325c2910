import { hostname } from 'node:os';
import { adminConfig, commonConfig, int, kickAppConfig, optionalUrl, parseConfig, str, url } from '@onair/service-kit';

const shape = {
  ...commonConfig(8084),
  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/onair', protocols: ['postgres', 'postgresql'] }),
  DB_POOL_MAX: int({ default: 4, min: 1 }),
  CLICKHOUSE_URL: optionalUrl({ default: 'http://127.0.0.1:8123', protocols: ['http', 'https'] }),
  CLICKHOUSE_DATABASE: str({ default: 'onair' }),
  /** Kick app credentials (client-credentials grant). Empty: probing is off and the service says so. */
  ...kickAppConfig(),
  /** Milliseconds between ticks of one replica, plus up to PROBE_TICK_JITTER_MS at random. */
  PROBE_TICK_MS: int({ default: 5_000, min: 100 }),
  PROBE_TICK_JITTER_MS: int({ default: 1_000, min: 0 }),
  /** Channels claimed per statement (a tick repeats claims until nothing is due). */
  PROBE_CLAIM_LIMIT: int({ default: 1_000, min: 1, max: 10_000 }),
  /** How long a claim holds a channel, in ms: longer than a slow probe, shorter than the cadence. */
  PROBE_HOLD_MS: int({ default: 30_000, min: 1_000 }),
  /** Bearer token of the operator-only audit route (at least 24 characters, no default). */
  ...adminConfig(),
  /** Name of this replica in `probe_schedule.claimed_by`; host and pid by default. */
  REPLICA_ID: str({ default: `${hostname()}-${process.pid}` }),
};

export type ProbeSchedulerConfig = ReturnType<typeof parseProbeSchedulerConfig>;

export function parseProbeSchedulerConfig(env: Record<string, string | undefined>) {
  return parseConfig(shape, env);
}
