import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Per-channel rules of the chat bot. A channel without a row uses the defaults below (clips on, for everyone).
  // Channels are named as rooms are: (platform, channel id), e.g. ('kick', '123') or ('onair', 'r1').
  await sql`
    CREATE TABLE bot_settings (
      platform       text        NOT NULL,
      channel_id     text        NOT NULL,
      enabled        boolean     NOT NULL DEFAULT true,
      mode           text        NOT NULL DEFAULT 'everyone' CHECK (mode IN ('everyone', 'streamer_only')),
      approved_users text[]      NOT NULL DEFAULT '{}',
      cooldown_s     integer     NOT NULL DEFAULT 60 CHECK (cooldown_s BETWEEN 0 AND 86400),
      min_clip_s     integer     NOT NULL DEFAULT 5,
      max_clip_s     integer     NOT NULL DEFAULT 120,
      replies        boolean     NOT NULL DEFAULT true,
      updated_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (platform, channel_id),
      CHECK (min_clip_s >= 1 AND min_clip_s <= max_clip_s AND max_clip_s <= 600)
    )`.execute(db);
  // Broadcasts, as their platforms announce them (Kick's livestream.status.updated, LiveKit's room events)
  // or as probes saw them (floored to the minute): a clip's offset is measured from started_at.
  await sql`
    CREATE TABLE live_streams (
      id         bigserial   PRIMARY KEY,
      platform   text        NOT NULL,
      channel_id text        NOT NULL,
      started_at timestamptz NOT NULL,
      ended_at   timestamptz,
      source     text        NOT NULL,
      UNIQUE (platform, channel_id, started_at)
    )`.execute(db);
  // Every command the bot decided on, once: the key is the message, so a redelivery, a second replica or a
  // replayed webhook finds the decision already made. Replies are an outbox: pending → sending → sent/failed.
  await sql`
    CREATE TABLE bot_commands (
      platform       text        NOT NULL,
      channel_id     text        NOT NULL,
      message_id     text        NOT NULL,
      requester_id   text        NOT NULL,
      requested_at   timestamptz NOT NULL,
      outcome        text        NOT NULL,
      reply          text,
      reply_state    text        NOT NULL DEFAULT 'none' CHECK (reply_state IN ('none', 'pending', 'sending', 'sent', 'failed')),
      created_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (platform, channel_id, message_id)
    )`.execute(db);
  await sql`CREATE INDEX bot_commands_requester ON bot_commands (platform, channel_id, requester_id, requested_at DESC)`.execute(db);
  await sql`CREATE INDEX bot_commands_replies_due ON bot_commands (created_at) WHERE reply_state = 'pending'`.execute(db);
  // Clips, keyed by the message that asked for them. A longer request inside the cooldown replaces the
  // requester's previous clip (status 'replaced', replaced_by the new one). published_at is the outbox of the
  // clip.created event: set once the event is stored in JetStream.
  await sql`
    CREATE TABLE clips (
      id             bigserial   PRIMARY KEY,
      platform       text        NOT NULL,
      channel_id     text        NOT NULL,
      message_id     text        NOT NULL,
      stream_id      bigint      NOT NULL REFERENCES live_streams (id),
      requester_id   text        NOT NULL,
      requester_name text        NOT NULL,
      requested_at   timestamptz NOT NULL,
      offset_ms      bigint      NOT NULL CHECK (offset_ms >= 0),
      duration_s     integer     NOT NULL CHECK (duration_s > 0),
      status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'replaced')),
      replaced_by    bigint      REFERENCES clips (id),
      published_at   timestamptz,
      created_at     timestamptz NOT NULL DEFAULT now(),
      UNIQUE (platform, channel_id, message_id)
    )`.execute(db);
  await sql`CREATE INDEX clips_requester ON clips (platform, channel_id, requester_id, requested_at DESC)`.execute(db);
  await sql`CREATE INDEX clips_stream ON clips (stream_id, offset_ms)`.execute(db);
  await sql`CREATE INDEX clips_unpublished ON clips (created_at) WHERE published_at IS NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['clips', 'bot_commands', 'live_streams', 'bot_settings']) {
    await sql`DROP TABLE ${sql.id(table)}`.execute(db);
  }
}
