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
  /** Bearer token of the operator-only routes (the stream-start audit). */
  adminToken: string;
  /** Trusted proxies and the /metrics token, from the common config. */
  http?: HttpServerConfig;
  /** Clock, injectable so tests can run many simulated minutes in seconds. */
  now?: () => Date;
}

export interface ProbeScheduler {
  server: HttpServer;
  /** One tick at the clock's now (the loop calls this; tests call it directly). */
  tick(): Promise<TickResult>;
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
    const started = performance.now();
    const result = await runProbeTick(
      { db: deps.db.db, kick: deps.kick, publish, replica: deps.replica, claimLimit: deps.claimLimit, holdMs: deps.holdMs, logger: deps.logger, metrics },
      now(),
    );
    metrics.tickSeconds.set((performance.now() - started) / 1000);
    metrics.dueChannels.set(result.claimed);
    return result;
  };

  return {
    server,
    tick,
    startLoop(options) {
      if (!deps.kick) {
        deps.logger.warn('KICK_CLIENT_ID / KICK_CLIENT_SECRET not set: probing is off');
        return;
      }
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
      await consumers.stop();
    },
  };
}
