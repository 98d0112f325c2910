import { registerOnce as metric } from '@onair/service-kit';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function consumerMetrics(registry: Registry) {
  return {
    batchSize: metric(
      registry,
      'consumer_batch_size',
      () =>
        new Histogram({
          name: 'consumer_batch_size',
          help: 'Messages per handled batch.',
          labelNames: ['consumer'],
          buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
          registers: [registry],
        }),
    ),
    handleSeconds: metric(
      registry,
      'consumer_batch_handle_seconds',
      () =>
        new Histogram({
          name: 'consumer_batch_handle_seconds',
          help: 'Time to handle one batch (e.g. one database write), in seconds.',
          labelNames: ['consumer'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [registry],
        }),
    ),
    messages: metric(
      registry,
      'consumer_messages_total',
      () =>
        new Counter({
          name: 'consumer_messages_total',
          help: 'Messages settled, by outcome: ack, nak (retried later) or term (dead-lettered).',
          labelNames: ['consumer', 'outcome'],
          registers: [registry],
        }),
    ),
    heartbeatsMissed: metric(
      registry,
      'consumer_heartbeats_missed_total',
      () =>
        new Counter({
          name: 'consumer_heartbeats_missed_total',
          help: 'Missed-heartbeat notifications from the server.',
          labelNames: ['consumer'],
          registers: [registry],
        }),
    ),
    recreated: metric(
      registry,
      'consumer_recreated_total',
      () =>
        new Counter({
          name: 'consumer_recreated_total',
          help: 'Times the durable consumer was found missing and created again.',
          labelNames: ['consumer'],
          registers: [registry],
        }),
    ),
  };
}

/** Consumer lag, read from the server when Prometheus scrapes: messages not yet delivered plus unacked. */
export function registerLagGauge(
  registry: Registry,
  consumer: string,
  read: () => Promise<{ pending: number; ackPending: number }>,
): void {
  const gauge = metric(
    registry,
    'consumer_pending_messages',
    () =>
      new Gauge({
        name: 'consumer_pending_messages',
        help: 'Messages waiting for the consumer (num_pending) and delivered but unacked (num_ack_pending).',
        labelNames: ['consumer', 'state'],
        registers: [registry],
        async collect() {
          for (const reader of readers.get(this) ?? []) await reader();
        },
      }),
  );
  const list = readers.get(gauge) ?? [];
  list.push(async () => {
    try {
      const lag = await read();
      gauge.labels(consumer, 'pending').set(lag.pending);
      gauge.labels(consumer, 'ack_pending').set(lag.ackPending);
    } catch {
      // NATS down: leave the last value; the connection metrics tell the story.
    }
  });
  readers.set(gauge, list);
}

const readers = new WeakMap<object, Array<() => Promise<void>>>();
