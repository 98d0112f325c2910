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
   * Several nodes serve one app when they share a NATS adapter (same servers and prefix). `nodes` is how
   * many: without it each new socket makes Soketi ask NATS's system account how many nodes there are,
   * a request that times out on a server without one and, under a connection storm, crashes the node
   * (an unhandled NatsError TIMEOUT, seen here at ~5,000 sockets).
   */
  natsAdapter?: { servers: string[]; prefix: string; nodes: number };
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
            SOKETI_ADAPTER_NATS_NODES_NUMBER: String(options.natsAdapter.nodes),
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
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
