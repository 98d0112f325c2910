import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { KickApiError, KickAuthError, KickUnavailableError, type KickClient } from '@onair/kick-api';
import { HttpError, MAX_SAFE_ID } from '@onair/service-kit';
import { insertAudit } from '../audit/sql/insert-audit';
import { channelReconcileKey } from '../kick-subscriptions/jobs';
import type { SubscriptionMetrics } from '../kick-subscriptions/metrics';
import { kickChannels } from '../kick-subscriptions/sql/kick-channels';
import { syncChannel } from '../kick-subscriptions/sync-channel';
import { assignmentScope, principalOf, requireAdmin } from '../operators/principal';
import { operatorExists } from '../operators/sql/list-operators';
import {
  insertStreamerWithChannel,
  lockPlatformChannel,
  lockStreamer,
  renameChannel,
  streamerOfChannel,
  updateStreamer,
  type StreamerRecord,
} from './sql/streamer-record';

const Id = Type.Integer({ minimum: 1, maximum: MAX_SAFE_ID });
/** Kick slugs are letters, digits, `-` and `_`; the bound keeps junk away from Kick's API. */
const Slug = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Notes = Type.String({ maxLength: 2000, pattern: '^[^\\u0000]*$' });

const CreateBody = Type.Object(
  { platform: Type.Literal('kick'), slug: Slug, notes: Type.Optional(Notes), assignedOperatorId: Type.Optional(Id) },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  {
    /** true: probing and webhooks stop (status `suspended`); false: they resume. */
    paused: Type.Optional(Type.Boolean()),
    notes: Type.Optional(Notes),
    assignedOperatorId: Type.Optional(Type.Union([Id, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const Params = Type.Object({ id: Id });

export interface OnboardingDeps {
  db: Kysely<any>;
  /** Absent when KICK_CLIENT_ID/SECRET are not set: onboarding answers 503 `kick_not_configured`. */
  kick?: KickClient;
  metrics: SubscriptionMetrics;
  now: () => Date;
  /** Requests a reconcile run (the durable job) for one channel; failures are logged, the hourly run covers them. */
  requestReconcile: (periodKey: string) => Promise<unknown>;
}

/** Where a streamer's webhook subscriptions stand after a write. */
interface SubscriptionsState {
  /** `complete`: Kick lists the wanted set; `pending`: the reconcile job (already requested) finishes it. */
  state: 'complete' | 'pending';
  wanted: number;
  present: number | null;
}

const isKickFailure = (error: unknown) => error instanceof KickApiError || error instanceof KickUnavailableError || error instanceof KickAuthError;

/**
 * Onboarding and upkeep of streamers: `POST /v1/streamers` (admin), `PATCH /v1/streamers/:id` (admin, or
 * the assigned operator for pause/resume and notes), `DELETE /v1/streamers/:id` (admin). Each write and
 * its audit entry commit together; Kick's subscriptions are brought in line after the commit.
 *
 * Kick being down: while the channel cannot be looked up, `POST` answers 503 `kick_unavailable` and
 * writes nothing. Once the streamer is stored, a failure to (un)subscribe does not undo it: the answer
 * says `subscriptions.state: "pending"` and the reconcile job, requested at once and hourly anyway,
 * completes the subscriptions.
 */
export function registerOnboardingRoutes(api: FastifyInstance, deps: OnboardingDeps): void {
  /** Syncs the streamer's Kick channels now; on Kick failures leaves them to the requested reconcile. */
  async function syncStreamer(record: StreamerRecord, log: FastifyBaseLogger): Promise<SubscriptionsState> {
    const channels = (await Promise.all(record.channels.filter((c) => c.platform === 'kick').map((c) => kickChannels(deps.db, c.id)))).flat();
    let wanted = 0;
    let present: number | null = 0;
    let complete = true;
    for (const channel of channels) {
      try {
        if (!deps.kick) throw new KickUnavailableError(0);
        const result = await syncChannel({ db: deps.db, kick: deps.kick, metrics: deps.metrics, now: deps.now }, channel, 'onboarding');
        wanted += result.wanted;
        if (present !== null) present += result.present;
        if (result.present !== result.wanted) complete = false;
      } catch (error) {
        if (!isKickFailure(error)) throw error;
        log.warn({ err: error, channelId: channel.channelId }, 'kick subscriptions not synced now; the reconcile job will');
        complete = false;
        present = null;
      }
      // Requested whatever happened: it checks what Kick lists a moment later and completes what is pending.
      await deps.requestReconcile(channelReconcileKey(channel.channelId, deps.now())).catch((error: unknown) => {
        log.warn({ err: error, channelId: channel.channelId }, 'reconcile request not stored; the hourly run will cover the channel');
      });
    }
    return { state: complete ? 'complete' : 'pending', wanted, present };
  }

  api.post<{ Body: Static<typeof CreateBody> }>('/v1/streamers', { schema: { body: CreateBody } }, async (request, reply) => {
    const who = requireAdmin(request);
    const { slug, notes, assignedOperatorId } = request.body;
    if (!deps.kick) throw new HttpError(503, 'kick_not_configured', 'Kick API credentials are not configured');
    let found;
    try {
      found = await deps.kick.getChannelBySlug(slug);
    } catch (error) {
      if (!isKickFailure(error)) throw error;
      throw new HttpError(503, 'kick_unavailable', 'Kick did not answer the channel lookup; nothing was created', {
        cause: error,
        headers: { 'retry-after': '30' },
      });
    }
    if (!found) throw new HttpError(404, 'unknown_channel', 'Kick has no channel with this slug');
    if (assignedOperatorId !== undefined && !(await operatorExists(deps.db, assignedOperatorId))) {
      throw new HttpError(422, 'unknown_operator', 'assignedOperatorId names no enabled operator');
    }
    const platformUserId = String(found.broadcasterUserId);
    const at = deps.now();
    const { record, created } = await deps.db.transaction().execute(async (trx) => {
      await lockPlatformChannel(trx, 'kick', platformUserId);
      const existingId = await streamerOfChannel(trx, 'kick', platformUserId);
      if (existingId === undefined) {
        const id = await insertStreamerWithChannel(trx, {
          displayName: found.slug,
          notes: notes ?? '',
          assignedOperatorId: assignedOperatorId ?? null,
          platform: 'kick',
          platformUserId,
          slug: found.slug,
          at,
        });
        const after = (await lockStreamer(trx, id))!;
        await insertAudit(trx, who, at, { action: 'streamer.create', targetType: 'streamer', targetId: id, before: null, after });
        return { record: after, created: true };
      }
      // The same channel again: one streamer. A removed one comes back; a renamed channel gets its new slug.
      const before = (await lockStreamer(trx, existingId))!;
      if (before.status === 'archived') await updateStreamer(trx, existingId, { status: 'active', at });
      await renameChannel(trx, 'kick', platformUserId, found.slug);
      const after = (await lockStreamer(trx, existingId))!;
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        const action = before.status === 'archived' ? 'streamer.restore' : 'streamer.update';
        await insertAudit(trx, who, at, { action, targetType: 'streamer', targetId: existingId, before, after });
      }
      return { record: after, created: false };
    });
    const subscriptions = await syncStreamer(record, request.log);
    return reply.code(created ? 201 : 200).send({ ...record, subscriptions });
  });

  api.patch<{ Params: Static<typeof Params>; Body: Static<typeof PatchBody> }>(
    '/v1/streamers/:id',
    { schema: { params: Params, body: PatchBody } },
    async (request) => {
      const who = principalOf(request);
      const { paused, notes, assignedOperatorId } = request.body;
      if (assignedOperatorId !== undefined && who.role !== 'admin') throw new HttpError(403, 'forbidden', 'Only an admin may assign streamers');
      if (assignedOperatorId !== undefined && assignedOperatorId !== null && !(await operatorExists(deps.db, assignedOperatorId))) {
        throw new HttpError(422, 'unknown_operator', 'assignedOperatorId names no enabled operator');
      }
      const at = deps.now();
      const { before, after } = await deps.db.transaction().execute(async (trx) => {
        const before = await lockStreamer(trx, request.params.id, assignmentScope(who));
        if (!before) throw new HttpError(404, 'not_found', `No streamer ${request.params.id}`);
        if (before.status === 'archived') throw new HttpError(409, 'streamer_removed', 'The streamer was removed; add it again with POST /v1/streamers');
        await updateStreamer(trx, before.id, {
          ...(paused === undefined ? {} : { status: paused ? 'suspended' : 'active' }),
          ...(notes === undefined ? {} : { notes }),
          ...(assignedOperatorId === undefined ? {} : { assignedOperatorId }),
          at,
        });
        const after = (await lockStreamer(trx, before.id))!;
        if (JSON.stringify(before) !== JSON.stringify(after)) {
          await insertAudit(trx, who, at, { action: 'streamer.update', targetType: 'streamer', targetId: before.id, before, after });
        }
        return { before, after };
      });
      const subscriptions = before.status !== after.status ? await syncStreamer(after, request.log) : undefined;
      return { ...after, ...(subscriptions ? { subscriptions } : {}) };
    },
  );

  api.delete<{ Params: Static<typeof Params> }>('/v1/streamers/:id', { schema: { params: Params } }, async (request) => {
    const who = requireAdmin(request);
    const at = deps.now();
    const { after, changed } = await deps.db.transaction().execute(async (trx) => {
      const before = await lockStreamer(trx, request.params.id);
      if (!before) throw new HttpError(404, 'not_found', `No streamer ${request.params.id}`);
      if (before.status === 'archived') return { after: before, changed: false };
      // History stays: the rows are kept, the streamer is archived, so probing and webhooks stop.
      await updateStreamer(trx, before.id, { status: 'archived', at });
      const after = (await lockStreamer(trx, before.id))!;
      await insertAudit(trx, who, at, { action: 'streamer.delete', targetType: 'streamer', targetId: before.id, before, after });
      return { after, changed: true };
    });
    // A repeated DELETE still checks Kick: the first one's unsubscribe may be the one left pending.
    const subscriptions = await syncStreamer(after, request.log);
    return { ...after, removed: changed, subscriptions };
  });
}
