import { Counter, Gauge, type Registry } from 'prom-client';

export function createProbeMetrics(registry: Registry) {
  return {
    written: new Counter({
      name: 'probes_written_total',
      help: 'Probe rows written to Postgres (one per channel-minute).',
      registers: [registry],
    }),
    failed: new Counter({
      name: 'probes_failed_total',
      help: 'Claimed channels whose probe failed (platform error); they back off and are retried.',
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'probe_last_success_timestamp_seconds',
      help: 'Unix time of the last tick that wrote a probe: the deadman signal.',
      registers: [registry],
    }),
    jitterChannels: new Gauge({
      name: 'probe_stream_start_jitter_channels',
      help: 'Channels with more than one stream start inside one live session in the last 24 h (as of the last audit).',
      registers: [registry],
    }),
    dueChannels: new Gauge({
      name: 'probe_due_channels',
      help: 'Channels this replica found due and claimed in its last probe tick; 0 while probing is off (no Kick credentials) or nothing is scheduled. Guards the ProbesDeadman alert.',
      registers: [registry],
    }),
    replicas: new Gauge({
      name: 'probe_scheduler_replicas',
      help: 'Replicas this one counted alive at its last tick (itself included; heartbeats on NATS): each claims about 1/N of the minute.',
      registers: [registry],
    }),
    tickSeconds: new Gauge({
      name: 'probe_tick_duration_seconds',
      help: 'Duration of the last probe tick, in seconds.',
      registers: [registry],
    }),
  };
}

export type ProbeMetrics = ReturnType<typeof createProbeMetrics>;
