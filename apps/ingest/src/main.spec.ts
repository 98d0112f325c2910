import { afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createTestTopology } from '@onair/messaging/testing';
import { describeServiceProcess } from '@onair/service-kit/testing';
import { createKickSigner } from './testing/kick-signer';

const env = await createTestTopology('ingest-main');
afterAll(() => env.cleanup());

describeServiceProcess('ingest', {
  main: fileURLToPath(new URL('./main.ts', import.meta.url)),
  env: {
    NATS_NAMESPACE: env.topology.namespace,
    SESSION_JWT_SECRET: 'main-spec-secret-0123456789abcdefghij',
    KICK_PUBLIC_KEY: createKickSigner().publicKeyPem,
    LOG_LEVEL: 'info',
  },
  badVariable: ['KICK_MAX_SKEW_S', '-1'],
});
