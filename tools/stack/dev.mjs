#!/usr/bin/env node
// `npm run dev`: the stack, then migrations, then every service's serve target (watch mode).
// Ctrl-C stops the services and whatever the stack started; services that were already running
// before (the machine's Postgres, NATS, …) are left alone.
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { ROOT, runWithStack } from './stack.mjs';

const SERVICES = {
  ingest: 8081,
  'realtime-gateway': 8082,
  summary: 8083,
  'probe-scheduler': 8084,
  'chat-writer': 8085,
};

const banner = (env) =>
  [
    '',
    'onair dev stack',
    ...Object.entries(SERVICES).map(([name, port]) => `  ${name.padEnd(18)} http://127.0.0.1:${port}`),
    `  ${'nats'.padEnd(18)} ${env.NATS_URL}`,
    `  ${'postgres'.padEnd(18)} ${env.DATABASE_URL}`,
    `  ${'clickhouse'.padEnd(18)} ${env.CLICKHOUSE_URL || '(disabled)'}`,
    `  ${'soketi (pusher)'.padEnd(18)} http://${env.PUSHER_HOST}:${env.PUSHER_PORT} app ${env.PUSHER_APP_ID} key ${env.PUSHER_APP_KEY}`,
    '  Ctrl-C stops everything started here.',
    '',
  ].join('\n');

// Local-only credentials so the platform runs without any setup: a session secret, and a Kick webhook
// key pair whose private half `npm run kick:curl` signs with (Kick's real key is never available here).
const kickDir = path.join(ROOT, '.stack/kick-dev');
if (!fs.existsSync(path.join(kickDir, 'public.pem'))) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.mkdirSync(kickDir, { recursive: true });
  fs.writeFileSync(path.join(kickDir, 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(path.join(kickDir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
}
process.env.KICK_PUBLIC_KEY_FILE ??= path.join(kickDir, 'public.pem');
process.env.SESSION_JWT_SECRET ??= 'dev-only-session-secret-0123456789abcdef';
process.env.ADMIN_TOKEN ??= 'dev-only-admin-token-0123456789abcdef';
// A local LiveKit server is not part of the stack; these only let the join endpoint mint tokens.
process.env.LIVEKIT_API_KEY ??= 'devkey';
process.env.LIVEKIT_API_SECRET ??= 'dev-only-livekit-secret-0123456789abcdef';

// The migrate script belongs to the services; until it exists there is nothing to migrate.
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
const migrate = scripts.migrate ? [['npm', 'run', 'migrate']] : [];
if (!migrate.length) console.error('[dev] no "migrate" script in package.json yet: skipping migrations');

await runWithStack([...migrate, ['nx', 'run-many', '-t', 'serve', '--parallel=10', '--outputStyle=stream']], { banner });
