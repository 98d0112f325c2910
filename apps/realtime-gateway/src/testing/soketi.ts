import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePortForTests, waitFor } from '@onair/service-kit/testing';

/** The Soketi the dev/test stack installs (kept out of the services' dependencies). */
const SOKETI = fileURLToPath(new URL('../../../../.stack/soketi/node_modules/@soketi/soketi/bin/server.js', import.meta.url));

export interface PrivateSoketi {
  port: number;
  app: { id: string; key: string; secret: string };
  /** The process id, for CPU and memory readings. */
  pid: number;
  stop(): Promise<void>;
}

export interface PrivateSoketiOptions {
  /** Where Soketi posts its webhooks, and which. */
  webhooks?: { url: string; events: readonly string[] };
  /**
   * Several nodes serve one app when they share a NATS adapter (same servers and prefix). As deployed
   * (deploy/k8s/base/soketi.yaml): no fixed node count; the adapter counts the connections of its NATS
   * account (`$SYS.REQ.SERVER.PING.CONNZ`), so the account must be Soketi's alone (`user`/`password` of a
   * NATS account no other client uses): one connection is one node, and a node that dies stops being
   * counted. On a server without accounts that request times out (and, under a connection storm, crashed
   * a node: an unhandled NatsError TIMEOUT at ~5,000 sockets). `nodes` fixes the count instead, as
   * `SOKETI_ADAPTER_NATS_NODES_NUMBER` does: then a dead node is still waited for, `requestsTimeoutMs`
   * on every new socket and cross-node read.
   */
  natsAdapter?: {
    servers: string[];
    prefix: string;
    user?: string;
    password?: string;
    nodes?: number;
    /** How long a cross-node request waits for answers that do not come (ms; Soketi's default 5000). */
    requestsTimeoutMs?: number;
  };
  app?: { id: string; key: string; secret: string };
}

/**
 * A Soketi of the caller's own, for what the shared one cannot do: send its webhooks to this test's
 * gateway, or run as one of several nodes joined by the NATS adapter (the load tool). Needs the stack's
 * install (`npm test` and the benchmarks make it).
 */
export async function startPrivateSoketi(options: PrivateSoketiOptions = {}): Promise<PrivateSoketi> {
  if (!existsSync(SOKETI)) throw new Error(`Soketi is not installed at ${SOKETI}: run the tests through \`npm test\` (it installs it)`);
  const [port, metricsPort] = [await freePortForTests(), await freePortForTests()];
  const app = options.app ?? { id: 'private-app', key: 'private-key', secret: 'private-secret' };
  const child: ChildProcess = spawn(process.execPath, [SOKETI, 'start'], {
    stdio: process.env['SOKETI_LOG'] ? ['ignore', 'inherit', 'inherit'] : 'ignore',
    env: {
      ...process.env,
      SOKETI_HOST: '127.0.0.1',
      SOKETI_PORT: String(port),
      SOKETI_METRICS_HOST: '127.0.0.1',
      SOKETI_METRICS_SERVER_PORT: String(metricsPort),
      SOKETI_DEFAULT_APP_ID: app.id,
      SOKETI_DEFAULT_APP_KEY: app.key,
      SOKETI_DEFAULT_APP_SECRET: app.secret,
      SOKETI_DEFAULT_APP_WEBHOOKS: JSON.stringify(options.webhooks ? [{ url: options.webhooks.url, event_types: options.webhooks.events }] : []),
      ...(options.natsAdapter
        ? {
            SOKETI_ADAPTER_DRIVER: 'nats',
            SOKETI_ADAPTER_NATS_SERVERS: options.natsAdapter.servers.join(','),
            SOKETI_ADAPTER_NATS_PREFIX: options.natsAdapter.prefix,
            ...(options.natsAdapter.user ? { SOKETI_ADAPTER_NATS_USER: options.natsAdapter.user, SOKETI_ADAPTER_NATS_PASSWORD: options.natsAdapter.password ?? '' } : {}),
            ...(options.natsAdapter.nodes ? { SOKETI_ADAPTER_NATS_NODES_NUMBER: String(options.natsAdapter.nodes) } : {}),
            ...(options.natsAdapter.requestsTimeoutMs ? { SOKETI_ADAPTER_NATS_REQUESTS_TIMEOUT: String(options.natsAdapter.requestsTimeoutMs) } : {}),
            // The adapter's node count leaves two promises unhandled when its NATS request is not answered
            // within 1 s (nats-adapter.js getNumSub: the request, and `waiter.finally`); Soketi's
            // uncaughtException handler then closes the whole node. A node busy with a connection storm
            // lags that long: 2,000 sockets connecting brought a node down here. As a warning, the count
            // goes on with the answers it has (none: the socket's cap check counts this node only).
            NODE_OPTIONS: [process.env['NODE_OPTIONS'], '--unhandled-rejections=warn'].filter(Boolean).join(' '),
          }
        : {}),
      SOKETI_SHUTDOWN_GRACE_PERIOD: '100',
    },
  });
  // A Soketi left behind by a crashed or killed caller keeps its port, memory and CPU: it goes with us.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  await waitFor(
    () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false),
    (ok) => ok,
    { what: 'the private Soketi to answer', timeoutMs: 30_000, intervalMs: 200 },
  );
  return {
    port,
    app,
    pid: child.pid!,
    async stop() {
      process.off('exit', orphanGuard);
      // Killed by a signal (the load tool's SIGKILL), a process has a signalCode and no exitCode.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
