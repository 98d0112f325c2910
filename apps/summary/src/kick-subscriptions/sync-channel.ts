import type { KickClient, KickEventSubscription } from '@onair/kick-api';
import type { Kysely } from 'kysely';
import type { SubscriptionMetrics } from './metrics';
import { insertDrift, lockChannelSubscriptions, recordSubscriptionState } from './sql/record-subscription-state';
import type { KickChannelRow } from './sql/kick-channels';
import { KICK_EVENT_VERSION, wantedEvents } from './wanted-events';

export interface SyncDeps {
  db: Kysely<any>;
  kick: KickClient;
  metrics: SubscriptionMetrics;
  now: () => Date;
}

export interface SyncResult {
  wanted: number;
  present: number;
  /** Wanted events Kick did not list (before this pass created them). */
  missing: string[];
  /** Listed subscriptions deleted: unwanted events, and second copies of a wanted one. */
  strays: string[];
  created: number;
  deleted: number;
  /** Events Kick refused to create (its per-event `error`). */
  refused: string[];
}

/**
 * Brings one channel's subscriptions at Kick to the wanted set: lists them, deletes strays (events not
 * wanted, and every copy of a wanted event after the oldest), creates what is missing. `resubscribe`
 * (the watchdog) deletes every listed subscription first and creates the whole set again, since a
 * subscription Kick still lists may no longer deliver. Runs under the channel's lock, so concurrent
 * passes over one channel never both create. Drift (anything missing or stray) is recorded for
 * `reconcile` and `watchdog` passes; onboarding's first subscription is not drift.
 */
export async function syncChannel(
  deps: SyncDeps,
  channel: KickChannelRow,
  source: 'onboarding' | 'reconcile' | 'watchdog',
  options: { resubscribe?: boolean } = {},
): Promise<SyncResult> {
  return deps.db.transaction().execute(async (trx) => {
    await lockChannelSubscriptions(trx, channel.channelId);
    const wanted = wantedEvents(channel.streamerStatus);
    const listed = await deps.kick.listEventSubscriptions(channel.broadcasterUserId);
    const kept = new Map<string, KickEventSubscription>();
    const strays: KickEventSubscription[] = [];
    const oldestFirst = [...listed].sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id));
    for (const sub of oldestFirst) {
      if (!options.resubscribe && wanted.includes(sub.event) && sub.version === KICK_EVENT_VERSION && !kept.has(sub.event)) kept.set(sub.event, sub);
      else strays.push(sub);
    }
    const missing = wanted.filter((event) => !kept.has(event));
    if (strays.length > 0) await deps.kick.deleteEventSubscriptions(strays.map((s) => s.id));
    const answers = await deps.kick.createEventSubscriptions(
      channel.broadcasterUserId,
      missing.map((name) => ({ name, version: KICK_EVENT_VERSION })),
    );
    const created = answers.filter((a) => a.subscriptionId !== null).length;
    const refused = answers.filter((a) => a.subscriptionId === null).map((a) => a.name);
    const at = deps.now();
    const result: SyncResult = {
      wanted: wanted.length,
      present: kept.size + created,
      missing: [...missing],
      strays: strays.map((s) => s.event),
      created,
      deleted: strays.length,
      refused,
    };
    await recordSubscriptionState(trx, {
      channelId: channel.channelId,
      wanted: result.wanted,
      present: result.present,
      at,
      resubscribed: source === 'watchdog',
    });
    if (source !== 'onboarding' && (missing.length > 0 || strays.length > 0)) {
      await insertDrift(trx, {
        channelId: channel.channelId,
        at,
        source,
        missing: [...missing],
        strays: strays.map((s) => s.event),
        created,
        deleted: strays.length,
      });
      deps.metrics.recreated(source, created);
    }
    return result;
  });
}
