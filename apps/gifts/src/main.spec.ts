import { afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { describeServiceProcess } from '@onair/service-kit/testing';

const env = await createTestTopology('gifts-main');
const db = await createTestDatabase('gifts_main');
afterAll(async () => {
  await env.cleanup();
  await db.drop();
});

describeServiceProcess('gifts', {
  main: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: {
    NATS_NAMESPACE: env.topology.namespace,
    DATABASE_URL: db.url,
    ADMIN_TOKEN: 'gifts-main-admin-token-0123456789',
    SESSION_JWT_SECRET: 'gifts-main-session-secret-0123456789',
    LOG_LEVEL: 'info',
  },
  badVariable: ['PAYMENT_WEBHOOK_SECRET', 'REPLACE_ME'],
});
