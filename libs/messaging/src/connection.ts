import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';

export interface NatsOptions {
  url: string;
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  logger: Logger;
  /** Milliseconds to wait for a PubAck or API reply before giving up. */
  timeoutMs?: number;
}

/** A NATS connection with its JetStream handles and a live view of whether the socket is up. */
export interface Messaging {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** False between a disconnect and the next reconnect: publishing now would only queue in memory. */
  readonly connected: boolean;
  /** Flushes pending acks and publishes, then closes. */
  drain(): Promise<void>;
}

/**
 * Connects and keeps reconnecting forever: a service outlives NATS restarts. The first connect also
 * waits for the server, so services can start before NATS does.
 */
export async function connectMessaging(options: NatsOptions): Promise<Messaging> {
  const timeout = options.timeoutMs ?? 5_000;
  const nc = await connect({
    servers: options.url,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    timeout,
    // nats.js otherwise builds two Error objects (for their stack traces) on every request, PubAcks
    // included: a quarter of a publisher's CPU in profiles. Our errors are classified by type, not stack.
    noAsyncTraces: true,
  });
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        options.logger.warn({ server: status.server }, 'nats disconnected');
      } else if (status.type === 'reconnect') {
        connected = true;
        options.logger.info({ server: status.server }, 'nats reconnected');
      } else if (status.type === 'error') {
        options.logger.error({ err: status.error }, 'nats error');
      }
    }
  })();
  void nc.closed().then(() => {
    connected = false;
  });
  options.logger.info({ url: options.url }, 'nats connected');
  const jsm = await jetstreamManager(nc, { timeout });
  return {
    nc,
    js: jetstream(nc, { timeout }),
    jsm,
    get connected() {
      return connected && !nc.isClosed();
    },
    async drain() {
      if (!nc.isClosed()) await nc.drain();
    },
  };
}
