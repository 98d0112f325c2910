import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO 8601 instant whose fields name a real time: checked by round trip, since `Date.parse` reads
 * 2026-02-30 as 2 March and 24:00 as the next day, which would store a message under a day that never was.
 */
export function isIsoInstant(value: string): boolean {
  const m = ISO_8601.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const local = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    local.getUTCFullYear() === y && local.getUTCMonth() === mo - 1 && local.getUTCDate() === d &&
    local.getUTCHours() === h && local.getUTCMinutes() === mi && local.getUTCSeconds() === s
  );
}

// TypeBox knows no formats by itself; an unregistered format fails every check.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isIsoInstant);

/** Platforms we take chat and events from. `onair` is first-party room chat. */
export const Platform = Type.Union([Type.Literal('kick'), Type.Literal('onair')]);
export type Platform = Static<typeof Platform>;

const Id = Type.String({ minLength: 1, maxLength: 128 });
/**
 * A chat message id: a platform's id, or a first-party one scoped to its sender (`<user id>:<UUIDv7>`,
 * a session's user id is at most 128 characters).
 */
const MessageId = Type.String({ minLength: 1, maxLength: 192 });
/**
 * A Kick user/channel id. Kick sends them as JSON numbers; above 2^53 a JSON parser rounds them to another
 * id, so such a payload is refused rather than stored under a wrong id.
 */
const KickId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const IsoTime = Type.String({ format: 'date-time', minLength: 20, maxLength: 40 });

/** A sender's standing in a channel, as far as chat rules care. */
export const SenderRole = Type.Union([Type.Literal('broadcaster'), Type.Literal('moderator')]);
export type SenderRole = Static<typeof SenderRole>;

/** One chat message on the chat stream, whatever platform it came from. */
export const ChatMessage = Type.Object(
  {
    platform: Platform,
    /** Platform message id; with `platform` the idempotency key end to end. */
    messageId: MessageId,
    /** Platform channel (Kick broadcaster user id, or first-party room id). */
    channelId: Id,
    senderId: Id,
    senderUsername: Type.String({ minLength: 1, maxLength: 64 }),
    content: Type.String({ minLength: 1, maxLength: 2000 }),
    /** When the platform says the message was sent (ISO 8601). Partitions `chat_messages`. */
    sentAt: IsoTime,
    /** When ingest accepted it (ISO 8601). */
    receivedAt: IsoTime,
    /** Message this one answers, when the platform says so. */
    repliesTo: Type.Optional(Id),
    /**
     * What the sender is in this channel, when the platform says so: Kick's identity badges, or the claims of
     * a first-party session (`owns` → broadcaster, `mods` → moderator). The chat bot's streamer-only mode reads it.
     */
    senderRoles: Type.Optional(Type.Array(SenderRole, { maxItems: 4, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof ChatMessage>;

/** A Kick user object as it appears inside webhook payloads. */
export const KickUser = Type.Object({
  is_anonymous: Type.Optional(Type.Boolean()),
  user_id: Type.Union([KickId, Type.Null()]),
  username: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  is_verified: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  profile_picture: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  channel_slug: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type KickUser = Static<typeof KickUser>;

const KickBroadcaster = Type.Object({
  user_id: KickId,
  username: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  channel_slug: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** Kick `chat.message.sent` webhook body (the fields we use; others are ignored). */
export const KickChatMessageSent = Type.Object({
  message_id: Id,
  broadcaster: KickBroadcaster,
  sender: Type.Object({
    user_id: KickId,
    username: Type.String({ minLength: 1, maxLength: 64 }),
    /** Kick's identity: its badges (`{ type: 'moderator' | 'broadcaster' | 'vip' | … }`) say what the sender is. */
    identity: Type.Optional(
      Type.Union([
        Type.Object({ badges: Type.Optional(Type.Array(Type.Object({ type: Type.String({ maxLength: 64 }) }), { maxItems: 50 })) }),
        Type.Null(),
      ]),
    ),
  }),
  content: Type.String({ minLength: 1, maxLength: 2000 }),
  created_at: Type.Optional(IsoTime),
  replies_to: Type.Optional(Type.Union([Type.Object({ message_id: Id }), Type.Null()])),
});
export type KickChatMessageSent = Static<typeof KickChatMessageSent>;

const NullableTime = Type.Union([IsoTime, Type.Null()]);

/** Payload schemas of the Kick events we route to the events stream, by `Kick-Event-Type`. */
export const KickEventPayloads = {
  'livestream.status.updated': Type.Object({
    broadcaster: KickBroadcaster,
    is_live: Type.Boolean(),
    title: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    started_at: Type.Optional(NullableTime),
    ended_at: Type.Optional(NullableTime),
  }),
  'livestream.metadata.updated': Type.Object({
    broadcaster: KickBroadcaster,
    metadata: Type.Object({
      title: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
      language: Type.Optional(Type.Union([Type.String({ maxLength: 16 }), Type.Null()])),
      has_mature_content: Type.Optional(Type.Boolean()),
      category: Type.Optional(
        Type.Union([Type.Object({ id: Type.Integer(), name: Type.String({ maxLength: 200 }) }), Type.Null()]),
      ),
    }),
  }),
  'channel.followed': Type.Object({ broadcaster: KickBroadcaster, follower: KickUser }),
  'channel.subscription.new': Type.Object({
    broadcaster: KickBroadcaster,
    subscriber: KickUser,
    duration: Type.Optional(Type.Integer({ minimum: 0 })),
    created_at: Type.Optional(IsoTime),
    expires_at: Type.Optional(NullableTime),
  }),
  'channel.subscription.renewal': Type.Object({
    broadcaster: KickBroadcaster,
    subscriber: KickUser,
    duration: Type.Optional(Type.Integer({ minimum: 0 })),
    created_at: Type.Optional(IsoTime),
    expires_at: Type.Optional(NullableTime),
  }),
  'channel.subscription.gifts': Type.Object({
    broadcaster: KickBroadcaster,
    gifter: KickUser,
    giftees: Type.Array(KickUser, { maxItems: 1000 }),
    created_at: Type.Optional(IsoTime),
    expires_at: Type.Optional(NullableTime),
  }),
  'kicks.gifted': Type.Object({
    broadcaster: KickBroadcaster,
    sender: KickUser,
    gift: Type.Object({
      amount: Type.Integer({ minimum: 0 }),
      name: Type.String({ maxLength: 200 }),
      type: Type.Optional(Type.String({ maxLength: 64 })),
      tier: Type.Optional(Type.String({ maxLength: 64 })),
      message: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
      pinned_time_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
    }),
    created_at: Type.Optional(IsoTime),
  }),
  'moderation.banned': Type.Object({
    broadcaster: KickBroadcaster,
    moderator: KickUser,
    banned_user: KickUser,
    metadata: Type.Object({
      reason: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
      created_at: Type.Optional(IsoTime),
      expires_at: Type.Optional(NullableTime),
    }),
  }),
} as const;
export type KickEventType = keyof typeof KickEventPayloads;
export type KickEventPayload<T extends KickEventType> = Static<(typeof KickEventPayloads)[T]>;

export function isKickEventType(value: string): value is KickEventType {
  return Object.hasOwn(KickEventPayloads, value);
}

/** One platform event on the events stream: a typed envelope around the platform's payload. */
export const PlatformEvent = Type.Object({
  platform: Platform,
  /** Platform event id (Kick-Event-Message-Id): the idempotency key. */
  eventId: Id,
  /** Platform event type, e.g. `kicks.gifted`. */
  type: Type.String({ minLength: 1, maxLength: 64 }),
  channelId: Id,
  receivedAt: IsoTime,
  /** The platform payload, validated against the schema for `type` before publishing. */
  data: Type.Unknown(),
});
export type PlatformEvent = Static<typeof PlatformEvent>;

/** One viewer-count probe of one channel for one minute (`probe.result.<platform>.<channel>`). */
export const ProbeResult = Type.Object(
  {
    platform: Platform,
    /** Our channel id (streamer_channels.id). */
    channelId: Type.Integer({ minimum: 1 }),
    /** The platform's id of the channel (Kick broadcaster user id). */
    platformUserId: Id,
    /** The probe minute, UTC, floored (ISO 8601). With channelId, the idempotency key. */
    ts: IsoTime,
    isLive: Type.Boolean(),
    viewerCount: Type.Integer({ minimum: 0 }),
    /** Stream start floored to the minute, so one live session keeps one value. */
    streamStartedAt: Type.Union([IsoTime, Type.Null()]),
    title: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    category: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ProbeResult = Static<typeof ProbeResult>;

/** A request to run a job for one period (`jobs.<name>`); msgID `<name>:<periodKey>`. */
export const JobRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    /** The period the run covers, e.g. `2026-11-22` for a daily job: the idempotency key with the name. */
    periodKey: Type.String({ minLength: 1, maxLength: 64 }),
    /** When the schedule said the run was due (ISO 8601). */
    scheduledFor: IsoTime,
  },
  { additionalProperties: false },
);
export type JobRequest = Static<typeof JobRequest>;

/** What a consumer republishes when it gives up on a message. */
export const DeadLetter = Type.Object({
  consumer: Type.String(),
  stream: Type.String(),
  streamSeq: Type.Integer(),
  subject: Type.String(),
  reason: Type.String(),
  /** The original payload as UTF-8 text (may be invalid JSON; that can be the reason). */
  payload: Type.String(),
  failedAt: IsoTime,
});
export type DeadLetter = Static<typeof DeadLetter>;

/** A compiled validator for a schema: compile once, check many. */
export interface Validator<T> {
  check(value: unknown): value is T;
  /** First problem as `path: message`, for error replies and dead letters. */
  firstError(value: unknown): string | undefined;
}

export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<S> => compiled.Check(value),
    firstError(value) {
      const first = compiled.Errors(value).First();
      return first ? `${first.path || '/'}: ${first.message}` : undefined;
    },
  };
}
