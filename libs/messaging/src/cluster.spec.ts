import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createTopology, DEFAULT_STREAM_LIMITS, streamDefinitions } from '@onair/contracts';
import { freePortForTests, waitFor } from '@onair/service-kit/testing';
import { connectMessaging, natsServers, type Messaging } from './connection';
import { ensureStreams } from './ensure';
import { PublishUnavailableError } from './errors';
import { publishStored } from './publish';
import { startNatsCluster, type NatsCluster } from './testing';

/** A three-node JetStream cluster of its own: replicas set from the definitions, and a lost stream leader. */
let cluster: NatsCluster;
let messaging: Messaging;
const topology = createTopology('t_cluster');
const limits = { ...DEFAULT_STREAM_LIMITS, chatMaxBytes: 64 * 1024 ** 2, eventsMaxBytes: 16 * 1024 ** 2, probesMaxBytes: 16 * 1024 ** 2 };

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  // One string, comma-separated, as NATS_URL gives it.
  messaging = await connectMessaging({ url: cluster.urls.join(','), name: 'cluster-spec', logger: pino({ level: 'silent' }), timeoutMs: 2_000 });
}, 60_000);

afterAll(async () => {
  await messaging?.nc.close();
  await cluster?.stop();
});

describe('natsServers', () => {
  it('splits a comma-separated string and keeps a list', () => {
    expect(natsServers('nats://a:4222, nats://b:4222,')).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(natsServers(['nats://a:4222'])).toEqual(['nats://a:4222']);
    expect(() => natsServers(' , ')).toThrow(/no NATS server/);
  });
});

describe('a three-node cluster', () => {
  it('connects while a listed server is down: the client tries the next', async () => {
    const down = `nats://127.0.0.1:${await freePortForTests()}`;
    const other = await connectMessaging({ url: [down, down, ...cluster.urls.slice(1)], name: 'cluster-spec-down', logger: pino({ level: 'silent' }) });
    expect(other.connected).toBe(true);
    expect(cluster.urls.slice(1).map((u) => u.replace('nats://', ''))).toContain(other.nc.getServer());
    await other.nc.close();
  });

  it('creates every stream with one copy, then raises them to three in place', async () => {
    await ensureStreams(messaging.jsm, streamDefinitions(topology, limits));
    expect((await messaging.jsm.streams.info(topology.chat.stream)).config.num_replicas).toBe(1);

    const defs = streamDefinitions(topology, { ...limits, replicas: 3 });
    await ensureStreams(messaging.jsm, defs);
    for (const def of defs) {
      const info = await waitFor(
        () => messaging.jsm.streams.info(def.name),
        (i) => (i.cluster?.replicas ?? []).filter((r) => r.current).length === 2,
        { what: `${def.name}: two current followers` },
      );
      expect(info.config.num_replicas).toBe(3);
    }
    // At the definition: nothing left to change.
    await ensureStreams(messaging.jsm, defs);
  }, 60_000);

  it('keeps every stored message when the chat leader is killed, and stores again once a new leader is elected', async () => {
    const subject = topology.chat.subject('kick', 'failover');
    for (let i = 0; i < 200; i++) await publishStored(messaging, subject, `m${i}`, `before-${i}`);
    const leader = (await messaging.jsm.streams.info(topology.chat.stream)).cluster!.leader!;
    await cluster.node(leader).kill();
    const killedAt = Date.now();

    // Until the survivors elect a leader, a publish is refused (never reported stored); then it goes through.
    let refusals = 0;
    let recoveredMs = 0;
    for (let i = 0; ; i++) {
      try {
        const result = await publishStored(messaging, subject, `x${i}`, `after-${i}`, 1_000);
        expect(result.duplicate).toBe(false);
        recoveredMs = Date.now() - killedAt;
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(PublishUnavailableError);
        refusals++;
        if (Date.now() - killedAt > 30_000) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const info = await messaging.jsm.streams.info(topology.chat.stream);
    expect(info.cluster!.leader).not.toBe(leader);
    // Messages published before the kill are all there, plus the one after.
    expect(info.state.messages).toBeGreaterThanOrEqual(201);
    // A publish repeated after the failover is still recognised by its id.
    expect((await publishStored(messaging, subject, 'm0', 'before-0')).duplicate).toBe(true);
    // The client is connected to a live server (it moved if its own was the one killed).
    expect(messaging.connected).toBe(true);
    expect(messaging.nc.getServer()).not.toBe(cluster.node(leader).url.replace('nats://', ''));

    // The killed node comes back and catches up as a follower.
    await cluster.node(leader).start();
    await waitFor(
      () => messaging.jsm.streams.info(topology.chat.stream),
      (i) => (i.cluster?.replicas ?? []).some((r) => r.name === leader && r.current),
      { what: `${leader} current again`, timeoutMs: 30_000 },
    );
    console.log(`chat leader ${leader} killed: ${refusals} publishes refused, stored again after ${recoveredMs} ms, ${leader} current again after ${Date.now() - killedAt} ms`);
  }, 90_000);
});
