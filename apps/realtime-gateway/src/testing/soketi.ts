import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePortForTests, waitFor } from '@onair/service-kit/testing';

/** The Soketi the dev/test stack installs (kept out of the services' dependencies). */
const SOKETI = fileURLToPath(new URL('../../../../.stack/soketi/node_modules/@soketi/soketi/bin/server.js', import.meta.url));

export interface PrivateSoketi {
  port: number;
  app: { id: string; key: string; secret: string };
  stop(): Promise<void>;
}

/**
 * A Soketi of this test's own, for what the shared one cannot do: send its webhooks to this test's
 * gateway. Needs the stack's install (`npm test` makes it).
 */
export async function startPrivateSoketi(options: { webhookUrl: string; events: readonly string[] }): Promise<PrivateSoketi> {
  if (!existsSync(SOKETI)) throw new Error(`Soketi is not installed at ${SOKETI}: run the tests through \`npm test\` (it installs it)`);
  const [port, metricsPort] = [await freePortForTests(), await freePortForTests()];
  const app = { id: 'presence-app', key: 'presence-key', secret: 'presence-secret' };
  const child: ChildProcess = spawn(process.execPath, [SOKETI, 'start'], {
    stdio: 'ignore',
    env: {
      ...process.env,
      SOKETI_HOST: '127.0.0.1',
      SOKETI_PORT: String(port),
      SOKETI_METRICS_HOST: '127.0.0.1',
      SOKETI_METRICS_SERVER_PORT: String(metricsPort),
      SOKETI_DEFAULT_APP_ID: app.id,
      SOKETI_DEFAULT_APP_KEY: app.key,
      SOKETI_DEFAULT_APP_SECRET: app.secret,
      SOKETI_DEFAULT_APP_WEBHOOKS: JSON.stringify([{ url: options.webhookUrl, event_types: options.events }]),
      SOKETI_SHUTDOWN_GRACE_PERIOD: '100',
    },
  });
  await waitFor(
    () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false),
    (ok) => ok,
    { what: 'the private Soketi to answer', timeoutMs: 30_000, intervalMs: 200 },
  );
  return {
    port,
    app,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
