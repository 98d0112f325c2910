import { afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { describeServiceProcess } from '@onair/service-kit/testing';

const env = await createTestTopology('chat-writer-main');
const db = await createTestDatabase('chat_writer_main');
afterAll(async () => {
  await env.cleanup();
  await db.drop();
});

describeServiceProcess('chat-writer', {
  main: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: { NATS_NAMESPACE: env.topology.namespace, DATABASE_URL: db.url, CLICKHOUSE_URL: '', LOG_LEVEL: 'info' },
  badVariable: ['CHAT_WRITE_METHOD', 'bulk'],
});
