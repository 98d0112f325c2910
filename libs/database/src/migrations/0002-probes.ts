import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE streamers (
      id           bigserial   PRIMARY KEY,
      display_name text        NOT NULL,
      status       text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'suspended')),
      created_at   timestamptz NOT NULL DEFAULT now(),
      updated_at   timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE streamer_channels (
      id               bigserial   PRIMARY KEY,
      streamer_id      bigint      NOT NULL REFERENCES streamers (id) ON DELETE CASCADE,
      platform         text        NOT NULL,
      platform_user_id text        NOT NULL,
      slug             text        NOT NULL,
      created_at       timestamptz NOT NULL DEFAULT now(),
      UNIQUE (platform, platform_user_id)
    )`.execute(db);
  await sql`CREATE INDEX streamer_channels_streamer ON streamer_channels (streamer_id)`.execute(db);
  // One row per channel: the lease. A replica owns a channel while claimed_until is in the future.
  await sql`
    CREATE TABLE probe_schedule (
      channel_id           bigint      PRIMARY KEY REFERENCES streamer_channels (id) ON DELETE CASCADE,
      next_probe_at        timestamptz NOT NULL,
      last_probed_at       timestamptz,
      claimed_until        timestamptz,
      claimed_by           text,
      consecutive_failures integer     NOT NULL DEFAULT 0,
      last_is_live         boolean,
      updated_at           timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX probe_schedule_due ON probe_schedule (next_probe_at)`.execute(db);
  // ts is the probe minute; the key makes a second probe of the same channel-minute impossible.
  await sql`
    CREATE TABLE probes (
      ts                timestamptz NOT NULL,
      channel_id        bigint      NOT NULL,
      is_live           boolean     NOT NULL,
      viewer_count      integer     NOT NULL,
      stream_started_at timestamptz,
      title             text,
      category          text,
      PRIMARY KEY (channel_id, ts)
    ) PARTITION BY RANGE (ts)`.execute(db);
  // The single source of the probe cadence: viewer_hours = sum(viewer_count) × live_probe_minutes / 60.
  await sql`
    CREATE TABLE settings (
      id                    boolean     PRIMARY KEY DEFAULT true CHECK (id),
      live_probe_minutes    integer     NOT NULL DEFAULT 1 CHECK (live_probe_minutes > 0),
      offline_probe_minutes integer     NOT NULL DEFAULT 5 CHECK (offline_probe_minutes > 0),
      updated_at            timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`INSERT INTO settings DEFAULT VALUES`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['settings', 'probes', 'probe_schedule', 'streamer_channels', 'streamers']) {
    await sql`DROP TABLE ${sql.id(table)}`.execute(db);
  }
}
