#!/usr/bin/env node
// `npm run replica -- <service> [n]`: one more replica of a service, next to the one `npm run dev` or
// `nx serve` runs (nx serves each project once per workspace). It runs the service's src/main.ts with
// tsx and the env `npm run dev` gives its services: the same NATS_NAMESPACE, databases and dev secrets, so
// the replicas share the work (durable consumers, row leases, job queue). Replica n (default 1) listens on
// the service's port + 100 × n and is REPLICA_ID / WORKER_ID `<service>-<n>`. It does not start the stack:
// run it next to `npm run dev` or `npm run stack -- up`.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { devSecrets, SERVICES } from './dev-env.mjs';
import { ROOT, stackEnv } from './stack.mjs';

const usage =
  `usage: npm run replica -- <service> [n]   (replica n, default 1, on the service's port + 100 × n; ` +
  `services: ${Object.keys(SERVICES).join(', ')})`;
const [service, n = '1', ...rest] = process.argv.slice(2);
if (!Object.hasOwn(SERVICES, service ?? '') || !/^\d+$/.test(n) || rest.length) {
  console.error(usage);
  process.exit(2);
}
const index = Number(n);
const port = SERVICES[service] + 100 * index;
if (port > 65535) {
  console.error(`[replica] port ${port} (${SERVICES[service]} + 100 × ${index}) is out of range\n${usage}`);
  process.exit(2);
}
const host = process.env.HOST ?? '127.0.0.1';

const portFree = () =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
if (!(await portFree())) {
  console.error(`[replica] ${host}:${port} is taken: is ${service} replica ${index} already running? Pick another n.`);
  process.exit(1);
}

const id = `${service}-${index}`;
const env = { ...process.env, ...stackEnv(), ...devSecrets(), HOST: host, PORT: String(port), REPLICA_ID: id, WORKER_ID: id };
console.error(
  `[replica] ${service} #${index} on http://${host}:${port} (REPLICA_ID=${id}, NATS_NAMESPACE=${env.NATS_NAMESPACE ?? ''}, ` +
    `DATABASE_URL=${env.DATABASE_URL}) on ${os.hostname()}`,
);

const tsx = createRequire(import.meta.url).resolve('tsx');
const appDir = path.join(ROOT, 'apps', service);
// Same process group as this script: a terminal's Ctrl-C reaches the service directly (its first SIGINT
// drains, a second one would force it), so SIGINT is not passed on; SIGTERM (kill, npm, CI) is, each time.
const child = spawn(process.execPath, ['--import', tsx, path.join(appDir, 'src/main.ts')], { stdio: 'inherit', env, cwd: appDir });
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (err) => {
  console.error(`[replica] cannot run ${process.execPath}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0)));
