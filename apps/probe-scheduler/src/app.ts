import type { Analytics } from '@onair/analytics';
import { probesToClickHouseConsumer, type ProbeResult, type Topology } from '@onair/contracts';
import type { Db } from '@onair/database';
import { createConsumerSet, publishStored, type Messaging } from '@onair/messaging';
import { createHttpServer, startPeriodic, type HttpServer, type HttpServerConfig, type Logger, type Periodic } from '@onair/service-kit';
import type { Registry } from 'prom-client';
import { createProbeClickHouseSink } from './clickhouse-sink';
import { createProbeMetrics } from './metrics';
import { runProbeTick, type ChannelSource, type TickResult } from './probe-tick';
import { registerAuditRoute } from './audit-route';
import { createClaimLog } from './fair-share';
import { createPeers, peersSubject } from './peers';

export interface ProbeSchedulerDeps {
  logger: Logger;
  registry: Registry;
  messaging: Messaging;
  topology: Topology;
  db: Db;
  /** The platform client; absent when no credentials are configured (probing off). */
  kick?: ChannelSource;
  replica: string;
  claimLimit: number;
  holdMs: number;
  /**
   * Heartbeat timeout in ms (peers.ts): a replica not heard from for this long is no longer counted.
   * Default 20 s (three ticks of 5 s + 1 s jitter, plus margin).
   */
  peerTimeoutMs?: number;
  /**
   * A channel due and unclaimed for this long (ms) is taken by any replica, whatever its share: what a
   * silently dead replica leaves is probed this late at most. Default 12 s (two ticks).
   */
  overdueMs?: number;
  /** Bearer token of the operator-only routes (the stream-start audit). */
  adminToken: string;
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
  /** Clock, injectable so tests can run many simulated minutes in seconds. */
  now?: () => Date;
}

export interface ProbeScheduler {
  server: HttpServer;
  /** One tick at the clock's now: a heartbeat, then a claim of this replica's share (the loop calls this; tests call it directly). */
  tick(): Promise<TickResult>;
  /** Publishes this replica's heartbeat without claiming (startLoop does, one tick before the first claim). */
  announce(): Promise<void>;
  startLoop(options: { intervalMs: number; jitterMs: number }): void;
  startClickHouse(analytics: Analytics): Promise<void>;
  stop(): Promise<void>;
}

/** Builds probe-scheduler without listening, ticking or consuming. */
export function buildApp(deps: ProbeSchedulerDeps): ProbeScheduler {
  const metrics = createProbeMetrics(deps.registry);
  const now = deps.now ?? (() => new Date());
  const server = createHttpServer({
    logger: deps.logger,
    registry: deps.registry,
    readiness: {
      nats: () => deps.messaging.connected,
      postgres: () => deps.db.ping(),
    },
    ...deps.http,
  });
  registerAuditRoute(server.app, { db: deps.db.db, adminToken: deps.adminToken, metrics, now });

  let loop: Periodic | undefined;
  const consumers = createConsumerSet();
  const peers = createPeers({
    messaging: deps.messaging,
    subject: peersSubject(deps.topology.namespace),
    replica: deps.replica,
    timeoutMs: deps.peerTimeoutMs ?? 20_000,
    now,
    logger: deps.logger,
  });
  const claims = createClaimLog();
  const share = { replicas: (at: Date) => peers.count(at), claims, overdueMs: deps.overdueMs ?? 12_000 };
  /** Until then the loop only announces: a replica that starts must be counted by the others before it claims, and count them. */
  let listenUntil = 0;

  // msgID = channel + minute: however often a minute is probed or published, the stream keeps one.
  const publish = async (probes: ProbeResult[]) => {
    await Promise.all(
      probes.map((p) =>
        publishStored(deps.messaging, deps.topology.probes.subject(p.platform, String(p.channelId)), JSON.stringify(p), `probe:${p.channelId}:${p.ts}`),
      ),
    );
  };

  const tick = async (): Promise<TickResult> => {
    if (!deps.kick) return { claimed: 0, probed: 0, failed: 0 };
    await peers.announce();
    const at = now();
    if (at.getTime() < listenUntil) return { claimed: 0, probed: 0, failed: 0 };
    const started = performance.now();
    const result = await runProbeTick(
      { db: deps.db.db, kick: deps.kick, publish, replica: deps.replica, claimLimit: deps.claimLimit, holdMs: deps.holdMs, share, logger: deps.logger, metrics },
      at,
    );
    metrics.tickSeconds.set((performance.now() - started) / 1000);
    metrics.dueChannels.set(result.claimed);
    metrics.replicas.set(peers.count(at));
    return result;
  };

  return {
    server,
    tick,
    announce: () => peers.announce(),
    startLoop(options) {
      if (!deps.kick) {
        deps.logger.warn('KICK_CLIENT_ID / KICK_CLIENT_SECRET not set: probing is off');
        return;
      }
      // The first tick only announces; the first claim comes one tick later, once the others' heartbeats
      // (one per tick) have been heard. Without this, replicas started together let the first one seed
      // and claim every channel.
      listenUntil = now().getTime() + options.intervalMs;
      loop = startPeriodic({ name: 'probe tick', tick, intervalMs: options.intervalMs, jitterMs: options.jitterMs, logger: deps.logger });
    },
    async startClickHouse(analytics) {
      const definition = probesToClickHouseConsumer(deps.topology);
      await consumers.start({
        messaging: deps.messaging,
        definition,
        deadLetterSubject: deps.topology.deadLetter.subject(definition.durable),
        logger: deps.logger,
        registry: deps.registry,
        maxBatch: 2000,
        maxWaitMs: 200,
        concurrency: 1,
        handle: createProbeClickHouseSink(analytics),
      });
    },
    async stop() {
      await loop?.stop();
      await peers.stop();
      await consumers.stop();
    },
  };
}
