import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology, TEST_NATS_URL } from '@onair/messaging/testing';
import { createHttpServer } from '@onair/service-kit';
import { bootService } from './boot-service';

const env = await createTestTopology('service-boot');
const database = await createTestDatabase('service_boot');
afterAll(async () => {
  await env.cleanup();
  await database.drop();
});

const config = {
  LOG_LEVEL: 'silent',
  // A list, as a parsed NATS_URL is: here the one test server.
  NATS_URL: [TEST_NATS_URL],
  NATS_NAMESPACE: env.topology.namespace,
  NATS_STREAM_REPLICAS: 1,
  CHAT_MAX_AGE_HOURS: 1,
  CHAT_MAX_BYTES: 256 * 1024 ** 2,
  DEDUPE_WINDOW_S: 660,
};

describe('bootService', () => {
  it('connects NATS with the streams, opens and migrates Postgres, and stops in order: 503, stop, HTTP, NATS, pool, the rest', async () => {
    const boot = await bootService({ service: 'boot-test', config, postgres: { url: database.url, poolMax: 2 } });
    expect(boot.topology.namespace).toBe(env.topology.namespace);
    const chat = (await boot.messaging.jsm.streams.info(boot.topology.chat.stream)).config;
    expect(chat.max_age).toBe(3_600 * 1e9);
    expect(chat.num_replicas).toBe(1);
    expect(await boot.db.ping()).toBe(true);
    const migrated = await boot.db.db.selectFrom('kysely_migration').select('name').execute();
    expect(migrated.length).toBeGreaterThan(0);

    const server = createHttpServer({ logger: boot.logger, registry: boot.registry });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const seen: string[] = [];
    const shutdown = boot.planShutdown({
      server,
      stop: { name: 'app: stop', run: () => void seen.push(`stop: draining=${server.draining} listening=${server.app.server.listening}`) },
      closeLast: [
        {
          name: 'last',
          run: () =>
            void seen.push(`last: listening=${server.app.server.listening} nats closed=${boot.messaging.nc.isClosed()} pool ended=${boot.db.pool.ended}`),
        },
      ],
    });
    await shutdown('test');
    expect(seen).toEqual(['stop: draining=true listening=true', 'last: listening=false nats closed=true pool ended=true']);
  });

  it('without postgres opens no pool and still drains NATS', async () => {
    const boot = await bootService({ service: 'boot-test', config });
    expect(boot).not.toHaveProperty('db');
    const server = createHttpServer({ logger: boot.logger, registry: boot.registry });
    await boot.planShutdown({ server })('test');
    expect(server.draining).toBe(true);
    expect(boot.messaging.nc.isClosed()).toBe(true);
  });
});
