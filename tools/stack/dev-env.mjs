// What `npm run dev` gives its services besides the stack's env, shared with `npm run replica`.
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { ROOT } from './stack.mjs';

/** Each service's HTTP port in the dev stack; replica n of a service listens on this + 100 × n. */
export const SERVICES = {
  ingest: 8081,
  'realtime-gateway': 8082,
  summary: 8083,
  'probe-scheduler': 8084,
  'chat-writer': 8085,
  'chat-bot': 8086,
  gifts: 8087,
};

/**
 * The fake Kick `npm run dev` runs (tools/dev-kick.ts) and points the services at when no Kick app is
 * configured (KICK_CLIENT_ID unset): onboarding, subscriptions and probing then work offline.
 */
export const DEV_KICK = { port: 8089, clientId: 'dev-kick-client-id', clientSecret: 'dev-only-kick-client-secret-0123456789' };

/**
 * Local-only credentials so the platform runs without any setup: a session secret, an admin token, and a
 * Kick webhook key pair (made once in .stack/kick-dev) whose private half `npm run kick:curl` signs with
 * (Kick's real key is never available here). Returns only what `env` does not set already.
 */
export function devSecrets(env = process.env) {
  const kickDir = path.join(ROOT, '.stack/kick-dev');
  if (!fs.existsSync(path.join(kickDir, 'public.pem'))) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.mkdirSync(kickDir, { recursive: true });
    fs.writeFileSync(path.join(kickDir, 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(path.join(kickDir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const defaults = {
    KICK_PUBLIC_KEY_FILE: path.join(kickDir, 'public.pem'),
    SESSION_JWT_SECRET: 'dev-only-session-secret-0123456789abcdef',
    ADMIN_TOKEN: 'dev-only-admin-token-0123456789abcdef',
    // A local LiveKit server is not part of the stack; these only let the join endpoint mint tokens.
    LIVEKIT_API_KEY: 'devkey',
    LIVEKIT_API_SECRET: 'dev-only-livekit-secret-0123456789abcdef',
  };
  // A real Kick app (KICK_CLIENT_ID set) wins; otherwise the dev fake, base URLs and credentials together.
  const kick =
    env.KICK_CLIENT_ID === undefined
      ? {
          KICK_API_BASE: `http://127.0.0.1:${DEV_KICK.port}`,
          KICK_OAUTH_BASE: `http://127.0.0.1:${DEV_KICK.port}`,
          KICK_CLIENT_ID: DEV_KICK.clientId,
          KICK_CLIENT_SECRET: DEV_KICK.clientSecret,
        }
      : {};
  return { ...Object.fromEntries(Object.entries(defaults).filter(([k]) => env[k] === undefined)), ...kick };
}
