import { afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { describeServiceProcess } from '@onair/service-kit/testing';

const db = await createTestDatabase('probe_scheduler_main');
// Its own NATS namespace: the service's streams and job requests must not meet the dev stack's.
const nats = await createTestTopology('probe-scheduler-main');
afterAll(async () => {
  await nats.cleanup();
  await db.drop();
});

describeServiceProcess('probe-scheduler', {
  main: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: { NATS_NAMESPACE: nats.topology.namespace, DATABASE_URL: db.url, CLICKHOUSE_URL: '', LOG_LEVEL: 'info', ADMIN_TOKEN: 'probe-main-spec-admin-token-0123456789' },
  badVariable: ['DB_POOL_MAX', 'zero'],
});
