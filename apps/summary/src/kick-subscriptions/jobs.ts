import { everyMinutes, hourly, type JobDefinition } from '@onair/jobs';
import { KickApiError, KickUnavailableError, type KickClient } from '@onair/kick-api';
import type { Kysely } from 'kysely';
import type { SubscriptionMetrics } from './metrics';
import { kickChannels } from './sql/kick-channels';
import { markSilent, silentLiveChannels } from './sql/silent-live-channels';
import { syncChannel } from './sync-channel';

export const RECONCILE_JOB = 'kick-subscriptions-reconcile';
export const WATCHDOG_JOB = 'kick-webhook-watchdog';

export interface KickSubscriptionJobDeps {
  db: Kysely<any>;
  kick: KickClient;
  metrics: SubscriptionMetrics;
  now: () => Date;
  /**
   * How long a live channel with viewers may go without a webhook (a stored chat message) before it is
   * flagged and resubscribed, in ms; also the least time between two resubscriptions of one channel.
   */
  silenceMs: number;
  /** Viewers a live channel needs for its silence to count: small streams can be quiet. */
  minViewers: number;
  /** How recent the latest probe must be to say "live now", in ms. Default 10 minutes. */
  probeFreshMs?: number;
}

/** The period key of a reconcile requested for one channel (after onboarding or a change). */
export function channelReconcileKey(channelId: number, at: Date): string {
  return `channel-${channelId}@${at.toISOString()}`;
}

function channelOfKey(periodKey: string): number | undefined {
  const match = /^channel-(\d+)@/.exec(periodKey);
  return match ? Number(match[1]) : undefined;
}

/**
 * Reconcile (hourly, and per channel right after onboarding): Kick's listed subscriptions against the
 * wanted set, every Kick channel. A channel Kick cannot answer for is logged and left for the next run;
 * the run fails (and is retried) only when Kick answered for none of the channels it asked about.
 */
export function reconcileJob(deps: KickSubscriptionJobDeps): JobDefinition {
  return {
    name: RECONCILE_JOB,
    schedule: hourly({ minute: 17 }),
    ackWaitMs: 120_000,
    run: async ({ periodKey, logger, working }) => {
      const channels = await kickChannels(deps.db, channelOfKey(periodKey));
      let failed = 0;
      let lastError: unknown;
      for (const channel of channels) {
        working();
        try {
          const result = await syncChannel(deps, channel, 'reconcile');
          if (result.missing.length > 0 || result.strays.length > 0 || result.refused.length > 0) {
            logger.warn({ channelId: channel.channelId, slug: channel.slug, ...result }, 'kick subscriptions drifted: reconciled');
          }
        } catch (error) {
          if (!(error instanceof KickApiError || error instanceof KickUnavailableError)) throw error;
          failed += 1;
          lastError = error;
          logger.warn({ err: error, channelId: channel.channelId }, 'kick subscriptions not reconciled for this channel');
        }
      }
      if (channels.length > 0 && failed === channels.length) throw new Error(`Kick answered for none of ${failed} channels`, { cause: lastError });
    },
  };
}

/**
 * The delivery watchdog (every 5 minutes): flags live channels with viewers that sent no webhook for
 * `silenceMs`, resubscribes each (delete + create) at most once per `silenceMs`, and clears the flag of
 * channels that delivered again. A channel still flagged after its resubscription keeps the
 * `kick_webhook_silent_channels` gauge up, which is what the alert watches.
 */
export function watchdogJob(deps: KickSubscriptionJobDeps): JobDefinition {
  return {
    name: WATCHDOG_JOB,
    schedule: everyMinutes(5),
    ackWaitMs: 120_000,
    run: async ({ logger, working }) => {
      const now = deps.now();
      const silent = await silentLiveChannels(deps.db, {
        now,
        silenceMs: deps.silenceMs,
        minViewers: deps.minViewers,
        probeFreshMs: deps.probeFreshMs ?? 10 * 60_000,
      });
      await markSilent(deps.db, silent.map((c) => c.channelId), now);
      for (const channel of silent) {
        if (channel.resubscribedAt && now.getTime() - channel.resubscribedAt.getTime() < deps.silenceMs) continue;
        working();
        try {
          const result = await syncChannel(deps, channel, 'watchdog', { resubscribe: true });
          deps.metrics.resubscribed();
          logger.warn(
            { channelId: channel.channelId, slug: channel.slug, viewers: channel.viewerCount, deleted: result.deleted, created: result.created },
            'live kick channel sent no webhook for the silence window: resubscribed',
          );
        } catch (error) {
          if (!(error instanceof KickApiError || error instanceof KickUnavailableError)) throw error;
          logger.warn({ err: error, channelId: channel.channelId }, 'silent kick channel could not be resubscribed; next pass tries again');
        }
      }
    },
  };
}
