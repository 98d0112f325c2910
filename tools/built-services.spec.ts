import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService } from '@onair/service-kit/testing';

/**
 * What the image runs (deploy/Dockerfile): `nx run-many -t build`, then each `dist/apps/<service>/main.js`
 * with plain node — no tsx, no TypeScript anywhere — against the real NATS and Postgres, until `/healthz`
 * answers; SIGTERM then exits 0. Catches what only the bundle can get wrong: a package imported but not
 * installed, code that finds files next to its source, an ESM/CommonJS mismatch.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const SERVICES = ['ingest', 'realtime-gateway', 'summary', 'probe-scheduler', 'chat-writer', 'chat-bot', 'gifts'] as const;

const db = await createTestDatabase('built_services');
const nats = await createTestTopology('built-services');
afterAll(async () => {
  await nats.cleanup();
  await db.drop();
});

/** Each service's required settings, as its `main.spec.ts` gives them. */
const ENV: Record<(typeof SERVICES)[number], Record<string, string>> = {
  ingest: {
    SESSION_JWT_SECRET: 'built-spec-session-secret-0123456789abcdef',
    KICK_PUBLIC_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  },
  'realtime-gateway': {
    DATABASE_URL: db.url,
    SESSION_JWT_SECRET: 'built-spec-session-secret-0123456789abcdef',
    PUSHER_APP_KEY: process.env['PUSHER_APP_KEY'] ?? 'onair-key',
    PUSHER_APP_SECRET: process.env['PUSHER_APP_SECRET'] ?? 'onair-secret',
  },
  summary: { DATABASE_URL: db.url, CLICKHOUSE_URL: '', ADMIN_TOKEN: 'built-spec-admin-token-0123456789' },
  'probe-scheduler': { DATABASE_URL: db.url, CLICKHOUSE_URL: '', ADMIN_TOKEN: 'built-spec-admin-token-0123456789' },
  'chat-writer': { DATABASE_URL: db.url, CLICKHOUSE_URL: '' },
  'chat-bot': { DATABASE_URL: db.url, ADMIN_TOKEN: 'built-spec-admin-token-0123456789', SESSION_JWT_SECRET: 'built-spec-session-secret-0123456789abcdef' },
  gifts: { DATABASE_URL: db.url, ADMIN_TOKEN: 'built-spec-admin-token-0123456789', SESSION_JWT_SECRET: 'built-spec-session-secret-0123456789abcdef' },
};

describe('built services (dist/, plain node)', () => {
  beforeAll(async () => {
    // The build the Dockerfile runs; the cache skipped so this run's sources are what gets built.
    await run('npx', ['nx', 'run-many', '-t', 'build', '--skip-nx-cache', '--outputStyle=static'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 180_000);

  it('the migrate tool brings a database to the latest schema', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist/tools/migrate.js')], {
      env: { PATH: process.env['PATH'], DATABASE_URL: db.url, CLICKHOUSE_URL: '' },
    });
    expect(stdout).toMatch(/^postgres: (applied|up to date)/m);
  });

  it.each(SERVICES)('%s answers /healthz and exits 0 on SIGTERM', async (service) => {
    const port = await freePortForTests();
    const proc = await spawnService({
      main: join(ROOT, 'dist/apps', service, 'main.js'),
      // NODE_OPTIONS emptied: nothing may preload a TypeScript loader into the built service.
      env: { ...ENV[service], NATS_NAMESPACE: nats.topology.namespace, LOG_LEVEL: 'info', NODE_OPTIONS: '' },
      port,
    });
    try {
      if (service === 'realtime-gateway') {
        const script = await fetch(`http://127.0.0.1:${port}/assets/room-page.js`);
        expect(script.status).toBe(200);
        expect(await script.text()).toBe(readFileSync(join(ROOT, 'dist/apps/realtime-gateway/room-page.js'), 'utf8'));
      }
      if (service === 'summary') {
        // The console's script is the one the build wrote (no esbuild at run time).
        const script = await fetch(`http://127.0.0.1:${port}/console/app.js`);
        expect(script.status).toBe(200);
        expect(await script.text()).toBe(readFileSync(join(ROOT, 'dist/apps/summary/console.js'), 'utf8'));
      }
    } finally {
      const code = await proc.kill('SIGTERM');
      expect(code, proc.output()).toBe(0);
    }
    expect(proc.output()).toContain('"msg":"stopped"');
  });
});
