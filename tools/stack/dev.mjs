#!/usr/bin/env node
// `npm run dev`: the stack, then migrations, then every service's serve target (watch mode).
// Ctrl-C stops the services and whatever the stack started; services that were already running
// before (the machine's Postgres, NATS, …) are left alone.
import fs from 'node:fs';
import path from 'node:path';
import { DEV_KICK, devSecrets, SERVICES } from './dev-env.mjs';
import { ROOT, runWithStack } from './stack.mjs';

const banner = (env) =>
  [
    '',
    'onair dev stack',
    ...Object.entries(SERVICES).map(([name, port]) => `  ${name.padEnd(18)} http://127.0.0.1:${port}`),
    `  ${'nats'.padEnd(18)} ${env.NATS_URL}`,
    `  ${'postgres'.padEnd(18)} ${env.DATABASE_URL}`,
    `  ${'clickhouse'.padEnd(18)} ${env.CLICKHOUSE_URL || '(disabled)'}`,
    `  ${'soketi (pusher)'.padEnd(18)} http://${env.PUSHER_HOST}:${env.PUSHER_PORT} app ${env.PUSHER_APP_ID} key ${env.PUSHER_APP_KEY}`,
    `  ${'kick'.padEnd(18)} ${process.env.KICK_CLIENT_ID === DEV_KICK.clientId ? `the dev fake, http://127.0.0.1:${DEV_KICK.port} (channels streamer, quiet)` : process.env.KICK_API_BASE ?? 'https://api.kick.com'}`,
    `  ${'console'.padEnd(18)} http://127.0.0.1:${SERVICES.summary}/console (token: ADMIN_TOKEN, ${process.env.ADMIN_TOKEN})`,
    '  Another replica of a service: npm run replica -- <service> [n] (port + 100 × n).',
    '  Ctrl-C stops everything started here.',
    '',
  ].join('\n');

// Local-only credentials (session secret, admin token, a Kick webhook key pair): see dev-env.mjs.
Object.assign(process.env, devSecrets());

// The migrate script belongs to the services; until it exists there is nothing to migrate.
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
const migrate = scripts.migrate ? [['npm', 'run', 'migrate']] : [];
if (!migrate.length) console.error('[dev] no "migrate" script in package.json yet: skipping migrations');

await runWithStack([...migrate, ['nx', 'run-many', '-t', 'serve', '--parallel=10', '--outputStyle=stream']], { banner });
