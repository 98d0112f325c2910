import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';

export interface NatsOptions {
  /**
   * The server, or a cluster's servers: a list, or one string with the URLs comma-separated (as in
   * `NATS_URL`). The client connects to one, learns the others from the cluster and moves to another
   * when its server goes away.
   */
  url: string | readonly string[];
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
  const servers = natsServers(options.url);
  const nc = await connect({
    servers,
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
  options.logger.info({ servers, server: nc.getServer() }, 'nats connected');
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

/** The server list of `NatsOptions.url`: a comma-separated string is split, entries trimmed. */
export function natsServers(url: string | readonly string[]): string[] {
  const list = typeof url === 'string' ? url.split(',') : [...url];
  const servers = list.map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (servers.length === 0) throw new TypeError('no NATS server given');
  return servers;
}
