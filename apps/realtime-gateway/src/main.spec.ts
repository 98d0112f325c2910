import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { describeServiceProcess } from '@onair/service-kit/testing';

const db = await createTestDatabase('gateway_main');
// Its own NATS namespace: the service's streams and job requests must not meet the dev stack's.
const nats = await createTestTopology('gateway-main');
afterAll(async () => {
  await nats.cleanup();
  await db.drop();
});

describeServiceProcess('realtime-gateway', {
  main: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: {
    LOG_LEVEL: 'info',
    NATS_NAMESPACE: nats.topology.namespace,
    DATABASE_URL: db.url,
    SESSION_JWT_SECRET: 'gateway-main-spec-secret-0123456789abcdef',
    // No defaults in the service: the test stack's Soketi app (`npm test` exports it), or its dev values.
    PUSHER_APP_KEY: process.env['PUSHER_APP_KEY'] ?? 'onair-key',
    PUSHER_APP_SECRET: process.env['PUSHER_APP_SECRET'] ?? 'onair-secret',
  },
  badVariable: ['NATS_URL', 'http://127.0.0.1:4222'],
});
