import { sql, type Kysely } from 'kysely';

/** What a pass found and left for one channel; `resubscribed` also stamps the watchdog's resubscription. */
export async function recordSubscriptionState(
  db: Kysely<any>,
  state: { channelId: number; wanted: number; present: number; at: Date; resubscribed?: boolean },
): Promise<void> {
  const resubscribed = state.resubscribed ?? false;
  await sql`
    INSERT INTO kick_subscription_state (channel_id, wanted, present, checked_at, resubscribed_at, resubscribe_count)
    VALUES (${state.channelId}, ${state.wanted}, ${state.present}, ${state.at}, ${resubscribed ? state.at : null}, ${resubscribed ? 1 : 0})
    ON CONFLICT (channel_id) DO UPDATE SET
      wanted = EXCLUDED.wanted,
      present = EXCLUDED.present,
      checked_at = EXCLUDED.checked_at,
      resubscribed_at = CASE WHEN ${resubscribed} THEN EXCLUDED.checked_at ELSE kick_subscription_state.resubscribed_at END,
      resubscribe_count = kick_subscription_state.resubscribe_count + EXCLUDED.resubscribe_count`.execute(db);
}

/** One drift: what was missing, what was stray, what the pass created and deleted. */
export async function insertDrift(
  db: Kysely<any>,
  drift: { channelId: number; at: Date; source: 'reconcile' | 'watchdog'; missing: string[]; strays: string[]; created: number; deleted: number },
): Promise<void> {
  await sql`
    INSERT INTO kick_subscription_drift (channel_id, at, source, missing, strays, created, deleted)
    VALUES (${drift.channelId}, ${drift.at}, ${drift.source}, ${drift.missing}::text[], ${drift.strays}::text[], ${drift.created}, ${drift.deleted})`.execute(db);
}

/**
 * Holds the channel's subscription lock until the transaction ends: onboarding, the reconciler and the
 * watchdog never list-and-create one channel's subscriptions at once (which would create duplicates).
 */
export async function lockChannelSubscriptions(db: Kysely<any>, channelId: number): Promise<void> {
  // Two-key form: the first key is this lock's namespace ("kick subscriptions"), the second the channel.
  await sql`SELECT pg_advisory_xact_lock(7301, ${channelId}::int)`.execute(db);
}
