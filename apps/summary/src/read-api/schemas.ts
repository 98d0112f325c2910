import { Type, type TSchema } from '@sinclair/typebox';

/** `YYYY-MM-DD`; the pattern documents the form, handlers check the day exists (2026-02-30 does not). */
export const DayText = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const IsoTime = Type.String({ format: 'date-time' });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ViewersQuery = Type.Object({ day: Type.Optional(DayText) }, { additionalProperties: false });

/** `GET /v1/streamers/:id/viewers`: each channel's probes of one UTC day. */
export const ViewersResponse = Type.Object({
  day: DayText,
  series: Type.Array(
    Type.Object({
      channelId: Type.Integer(),
      platform: Type.String(),
      slug: Type.String(),
      /** One per probe minute, oldest first; `viewers` is null while offline. */
      points: Type.Array(Type.Object({ at: IsoTime, viewers: Nullable(Type.Integer()), live: Type.Boolean() })),
    }),
  ),
});

/** `GET /v1/streamers/:id/subscriptions`: Kick webhook subscription health per Kick channel. */
export const SubscriptionsResponse = Type.Object({
  channels: Type.Array(
    Type.Object({
      channelId: Type.Integer(),
      platform: Type.String(),
      slug: Type.String(),
      wanted: Nullable(Type.Integer()),
      present: Nullable(Type.Integer()),
      checkedAt: Nullable(IsoTime),
      silentSince: Nullable(IsoTime),
      resubscribedAt: Nullable(IsoTime),
      resubscribeCount: Type.Integer(),
      /** Checked at least once, present = wanted, and not silent. */
      healthy: Type.Boolean(),
      /** Newest first, at most 10. */
      drift: Type.Array(
        Type.Object({
          at: IsoTime,
          source: Type.String(),
          missing: Type.Array(Type.String()),
          strays: Type.Array(Type.String()),
          created: Type.Integer(),
          deleted: Type.Integer(),
        }),
      ),
    }),
  ),
});

/** `GET /v1/summaries`. */
export const SummariesResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      day: DayText,
      channelId: Type.Integer(),
      streamerId: Type.Integer(),
      platform: Type.String(),
      slug: Type.String(),
      viewerHours: Type.Number(),
      liveMinutes: Type.Integer(),
      streams: Type.Integer(),
      peakViewers: Type.Integer(),
      avgViewers: Type.Number(),
      chatMessages: Type.Integer(),
      uniqueChatters: Type.Integer(),
      gifts: Type.Integer(),
      giftCoins: Type.Integer(),
      source: Type.String(),
      computedAt: IsoTime,
    }),
  ),
  limit: Type.Integer(),
  offset: Type.Integer(),
  /** The `offset` of the next page; null on the last. */
  nextOffset: Nullable(Type.Integer()),
});

/** `GET /v1/jobs`. */
export const JobsResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      periodKey: Type.String(),
      attempt: Type.Integer(),
      status: Type.String(),
      worker: Type.String(),
      startedAt: IsoTime,
      finishedAt: Nullable(IsoTime),
      durationMs: Nullable(Type.Integer()),
      /** The failure's message (status `failed`). */
      error: Nullable(Type.String()),
    }),
  ),
  /** Pass as `cursor` for the next (older) page; null on the last. */
  nextCursor: Nullable(Type.String()),
});

export const RerunBody = Type.Object(
  {
    day: DayText,
    /** true: also send the day's Telegram message (once for this request); false: recompute and store only. */
    notify: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** `POST /v1/summaries/rerun`'s optional Idempotency-Key: one key, one rerun (see the route). */
export const RerunHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' })),
});

/** `POST /v1/summaries/rerun` (202): the run is queued, see `GET /v1/jobs?name=daily-summary-rerun`. */
export const RerunResponse = Type.Object({
  day: DayText,
  notify: Type.Boolean(),
  /** `<job>:<periodKey>`: the job request's id (its JetStream msgID). */
  jobKey: Type.String(),
  /** The job's name and period key as GET /v1/jobs lists them. */
  job: Type.String(),
  periodKey: Type.String(),
});
