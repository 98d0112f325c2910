import type { Messaging } from '@onair/messaging';
import type { Logger } from '@onair/service-kit';

/**
 * Which probe-scheduler replicas are alive, from heartbeats on core NATS. The claim sizes each replica's
 * share by this count (fair-share.ts). Core NATS, not a stream: a heartbeat is worth nothing once late,
 * and nothing else reads it, so it is private to this app rather than a contract of libs/contracts.
 */
export interface Peers {
  /** Publishes this replica's heartbeat (flushed while connected, so peers hear it before this tick's claim). */
  announce(): Promise<void>;
  /** Replicas alive at `now`, this one included (at least 1). */
  count(now: Date): number;
  /** Says this replica is leaving (peers stop counting it at once) and stops listening. */
  stop(): Promise<void>;
}

/** The heartbeat subject, inside the deployment's NATS namespace like every other subject. */
export const peersSubject = (namespace: string) => `${namespace ? `${namespace}.` : ''}probe-scheduler.replicas`;

export function createPeers(options: {
  messaging: Messaging;
  subject: string;
  replica: string;
  /**
   * A replica not heard from for this long (ms) is no longer counted. Three ticks: one lost heartbeat
   * is not a departure; a replica that died silently is dropped within ~20 s, and until then the others
   * still take its overdue channels (fair-share.ts).
   */
  timeoutMs: number;
  now: () => Date;
  logger: Logger;
}): Peers {
  const heard = new Map<string, number>();
  const { nc } = options.messaging;
  const subscription = nc.subscribe(options.subject, {
    callback: (error, msg) => {
      if (error) return;
      let body: { replica?: unknown; leaving?: unknown };
      try {
        body = msg.json();
      } catch {
        return;
      }
      if (typeof body.replica !== 'string' || body.replica === options.replica) return;
      if (body.leaving === true) heard.delete(body.replica);
      else heard.set(body.replica, options.now().getTime());
    },
  });
  const publish = async (leaving: boolean) => {
    nc.publish(options.subject, JSON.stringify({ replica: options.replica, leaving }));
    // Only while connected: flush would otherwise wait for the reconnect and hold the tick.
    if (options.messaging.connected) await nc.flush().catch((error: unknown) => options.logger.debug({ err: error }, 'heartbeat flush failed'));
  };
  return {
    announce: () => publish(false),
    count(now) {
      const since = now.getTime() - options.timeoutMs;
      let alive = 1;
      for (const [replica, at] of heard) {
        if (at >= since) alive++;
        else heard.delete(replica);
      }
      return alive;
    },
    async stop() {
      if (subscription.isClosed()) return;
      await publish(true).catch(() => undefined);
      subscription.unsubscribe();
    },
  };
}
