import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import { pino } from 'pino';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { createKickChatSender } from '@onair/kick-api';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { createMetricsRegistry } from '@onair/service-kit';
import { waitFor } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { buildApp, type ChatBot } from './app';
import { chat, publishChat, publishEvent, streamStarted } from './testing/fixtures';

/**
 * The bot against real NATS and Postgres, two replicas sharing its durable consumers, the fake Kick for
 * replies. Every time is fixed (T0); no test reads the calendar.
 */
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const ADMIN = 'bot-spec-admin-token-0123456789';
const SESSION = testSessionKeys('bot-spec-session-secret-0123456789abcdef');

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let kick: FakeKick;
const bots: ChatBot[] = [];

function build(): ChatBot {
  return buildApp({
    logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
    registry: createMetricsRegistry('chat-bot'),
    messaging: env.messaging,
    topology: env.topology,
    db,
    adminToken: ADMIN,
    session: SESSION,
    bot: { id: 'onair-bot', name: 'clipbot' },
    kickChat: createKickChatSender({ apiBase: kick.apiBase, token: 'bot-token' }),
    kickReplies: { burst: 1000, perMinute: 6000 },
    batch: { max: 100, waitMs: 10 },
    outboxSweepMs: 500,
    publishTimeoutMs: 5000,
    now: () => T0,
  });
}

beforeAll(async () => {
  env = await createTestTopology('chat-bot');
  testDb = await createTestDatabase('chat_bot');
  db = createDb({ url: testDb.url, poolMax: 8 });
  await migrateToLatest(db.db, new Date(T0));
  kick = await startFakeKick();
  kick.addUserToken('bot-token');
  for (let i = 0; i < 2; i++) {
    const bot = build();
    await bot.server.app.ready();
    await bot.start();
    bots.push(bot);
  }
});
afterAll(async () => {
  for (const bot of bots) {
    await bot.stop();
    await bot.server.app.close();
  }
  await kick?.close();
  await env?.cleanup();
  await db?.close();
  await testDb?.drop();
});

const inject = (options: InjectOptions) => bots[0]!.server.app.inject(options);

async function caughtUp(): Promise<void> {
  await waitFor(
    async () => {
      const info = await env.messaging.jsm.consumers.info(env.topology.chat.stream, env.topology.consumers.chatToBot);
      const events = await env.messaging.jsm.consumers.info(env.topology.events.stream, env.topology.consumers.eventsToBot);
      return info.num_pending + info.num_ack_pending + events.num_pending + events.num_ack_pending;
    },
    (n) => n === 0,
    { what: 'the bot consumers caught up' },
  );
}

async function startStream(channelId: string, startedAt: number): Promise<void> {
  await publishEvent(env.messaging, env.topology, streamStarted(channelId, startedAt));
  await waitFor(
    async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM live_streams WHERE channel_id = ${channelId}`.execute(db.db)).rows[0]!.n,
    (n) => n > 0,
    { what: `stream of ${channelId}` },
  );
}

const clipsOf = async (channelId: string) =>
  (
    await sql<{ message_id: string; requester_id: string; duration_s: number; status: string; offset_ms: string }>`
      SELECT message_id, requester_id, duration_s, status, offset_ms FROM clips WHERE channel_id = ${channelId} ORDER BY id`.execute(db.db)
  ).rows;

describe('exactly once', () => {
  it('makes each clip once with two replicas, every message stored twice and a replayed burst', async () => {
    await startStream('100', T0);
    const commands = Array.from({ length: 300 }, (_, i) => chat('100', `m-${i}`, `u-${i}`, i % 2 ? '!clip' : `!echo ${10 + (i % 50)}`, T0 + 60_000 + i));
    const plain = Array.from({ length: 700 }, (_, i) => chat('100', `p-${i}`, `u-${i}`, `just chatting ${i}!`, T0 + 60_000 + i));
    await publishChat(env.messaging, env.topology, [...commands, ...plain]);
    // The same messages again under other msgIDs: what a replay after JetStream's window or a second path would do.
    await publishChat(env.messaging, env.topology, commands, ':again');
    await caughtUp();

    const clips = await clipsOf('100');
    expect(clips).toHaveLength(300);
    expect(new Set(clips.map((c) => c.message_id)).size).toBe(300);
    const events = await waitFor(
      async () => (await env.messaging.jsm.streams.info(env.topology.events.stream, { subjects_filter: '>' })).state.subjects ?? {},
      (s) => (s[env.topology.events.subject('kick', '100', 'clip.created')] ?? 0) === 300,
      { what: '300 clip.created events' },
    );
    expect(events[env.topology.events.subject('kick', '100', 'clip.created')]).toBe(300);
  });
});

describe('rules', () => {
  it('places a clip by the stream start and the message time, exact over a 14-hour stream', async () => {
    const start = T0 + 1234;
    await startStream('200', start);
    const at = start + 14 * 3_600_000 + 1_500;
    await publishChat(env.messaging, env.topology, [chat('200', 'late-1', 'night-owl', '!clip 45', at)]);
    await caughtUp();
    const [clip] = await clipsOf('200');
    expect(Number(clip!.offset_ms)).toBe(14 * 3_600_000 + 1_500);
    expect(clip!.duration_s).toBe(45);
    const res = await inject({ method: 'GET', url: '/v1/channels/kick-200/clips', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.json().clips[0]).toMatchObject({ offsetMs: 14 * 3_600_000 + 1_500, startMs: 14 * 3_600_000 + 1_500 - 45_000, durationS: 45, requester: { id: 'night-owl' } });
  });

  it('replaces a user\'s clip with a longer one inside the cooldown, refuses a shorter or equal one', async () => {
    await startStream('300', T0);
    const t = T0 + 600_000;
    await publishChat(env.messaging, env.topology, [chat('300', 'c-1', 'ada', '!clip 30', t)]);
    await caughtUp();
    await publishChat(env.messaging, env.topology, [chat('300', 'c-2', 'ada', '!clip 30', t + 10_000)]);
    await caughtUp();
    await publishChat(env.messaging, env.topology, [chat('300', 'c-3', 'ada', '!clip 60', t + 20_000)]);
    await caughtUp();
    // After the cooldown (60 s by default) a new clip is a new clip.
    await publishChat(env.messaging, env.topology, [chat('300', 'c-4', 'ada', '!clip 10', t + 90_000)]);
    await caughtUp();
    expect((await clipsOf('300')).map((c) => [c.message_id, c.duration_s, c.status])).toEqual([
      ['c-1', 30, 'replaced'],
      ['c-3', 60, 'active'],
      ['c-4', 10, 'active'],
    ]);
    const { rows } = await sql<{ message_id: string; outcome: string }>`SELECT message_id, outcome FROM bot_commands WHERE channel_id = '300' ORDER BY message_id`.execute(db.db);
    expect(rows.map((r) => r.outcome)).toEqual(['created', 'refused_cooldown', 'replaced', 'created']);
  });

  it('in streamer-only mode lets the broadcaster, moderators and approved users clip, and refuses others politely once per cooldown', async () => {
    await startStream('400', T0);
    const put = await inject({
      method: 'PUT',
      url: '/v1/channels/kick-400/bot-settings',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { enabled: true, mode: 'streamer_only', approvedUsers: ['Friend'], cooldownS: 60, minClipS: 5, maxClipS: 120, replies: true },
    });
    expect(put.statusCode).toBe(200);
    const t = T0 + 100_000;
    await publishChat(env.messaging, env.topology, [
      chat('400', 's-1', '400', '!clip', t), // the broadcaster: Kick's broadcaster user id is the channel id
      chat('400', 's-2', 'mod', '!clip', t + 1, { senderRoles: ['moderator'] }),
      chat('400', 's-3', 'friend-id', '!clip', t + 2, { senderUsername: 'friend' }),
      chat('400', 's-4', 'viewer', '!clip', t + 3),
      chat('400', 's-5', 'viewer', '!clip', t + 4),
    ]);
    await caughtUp();
    // Two replicas decide in any order: the set is what counts.
    expect((await clipsOf('400')).map((c) => c.requester_id).sort()).toEqual(['400', 'friend-id', 'mod']);
    await waitFor(() => kick.chatMessages.filter((m) => m.broadcasterUserId === 400).length, (n) => n >= 4, { what: 'replies in channel 400' });
    expect(kick.chatMessages.filter((m) => m.broadcasterUserId === 400 && m.content.includes('only the streamer'))).toHaveLength(1);
  });

  it('refuses lengths outside the channel bounds and commands while offline', async () => {
    await publishChat(env.messaging, env.topology, [chat('500', 'o-1', 'ada', '!clip', T0 + 5_000)]);
    await startStream('501', T0);
    await publishChat(env.messaging, env.topology, [chat('501', 'l-1', 'ada', '!clip 121', T0 + 5_000), chat('501', 'l-2', 'bob', '!clip 4', T0 + 5_001)]);
    await caughtUp();
    const { rows } = await sql<{ message_id: string; outcome: string }>`
      SELECT message_id, outcome FROM bot_commands WHERE channel_id IN ('500', '501') ORDER BY message_id`.execute(db.db);
    expect(rows).toEqual([
      { message_id: 'l-1', outcome: 'refused_length' },
      { message_id: 'l-2', outcome: 'refused_length' },
      { message_id: 'o-1', outcome: 'refused_not_live' },
    ]);
    expect(await clipsOf('501')).toEqual([]);
  });
});

describe('replies', () => {
  it('answers a first-party room in its chat as the bot, once, and a Kick channel through Kick\'s chat API', async () => {
    await publishEvent(env.messaging, env.topology, {
      platform: 'onair',
      eventId: 'EV_room_started',
      type: 'livekit.room_started',
      channelId: 'studio',
      receivedAt: new Date(T0).toISOString(),
      data: { event: 'room_started', room: { sid: 'RM_1', name: 'studio', numParticipants: 0 }, createdAt: T0 / 1000 },
    });
    await caughtUp();
    await publishChat(env.messaging, env.topology, [chat('studio', 'ada:r-1', 'ada', '!clip 20', T0 + 30_000, { platform: 'onair' })]);
    await caughtUp();
    const reply = await waitFor(
      async () => env.messaging.jsm.streams.getMessage(env.topology.chat.stream, { last_by_subj: env.topology.chat.subject('onair', 'studio') }).catch(() => null),
      (m) => m?.json<{ senderId: string }>().senderId === 'onair-bot',
      { what: 'the bot reply in the room' },
    );
    expect(reply!.json()).toMatchObject({ platform: 'onair', senderId: 'onair-bot', senderUsername: 'clipbot', content: '@name-ada clip saved: 20 s ending at 0:00:30' });

    await startStream('600', T0);
    await publishChat(env.messaging, env.topology, [chat('600', 'k-1', 'bob', '!clip 15', T0 + 3_723_000)]);
    await caughtUp();
    const sent = await waitFor(() => kick.chatMessages.filter((m) => m.broadcasterUserId === 600), (m) => m.length > 0, { what: 'the Kick reply' });
    expect(sent).toEqual([expect.objectContaining({ type: 'user', content: '@name-bob clip saved: 15 s ending at 1:02:03', replyToMessageId: 'k-1' })]);
  });
});

describe('API', () => {
  it('lets the streamer read their own clips and refuses others, with the error shape', async () => {
    const own = signSessionToken({ id: 'streamer', name: 'S', ownsRooms: ['kick-200'] }, SESSION, { nowMs: T0 });
    const other = signSessionToken({ id: 'x', name: 'X', ownsRooms: ['kick-999'] }, SESSION, { nowMs: T0 });
    expect((await inject({ method: 'GET', url: '/v1/channels/kick-200/clips', headers: { authorization: `Bearer ${own}` } })).statusCode).toBe(200);
    const refused = await inject({ method: 'GET', url: '/v1/channels/kick-200/clips', headers: { authorization: `Bearer ${other}` } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
    expect((await inject({ method: 'GET', url: '/v1/channels/kick-200/bot-settings', headers: { authorization: `Bearer ${own}` } })).statusCode).toBe(403);
    expect((await inject({ method: 'GET', url: '/v1/channels/kick-200/clips' })).statusCode).toBe(401);
    for (const url of ['/v1/channels/kick-200/clips?stream=1e20', '/v1/channels/kick-200/clips?limit=0', '/v1/channels/bad%20id/clips']) {
      const res = await inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toEqual(expect.any(String));
    }
    const badSettings = await inject({
      method: 'PUT',
      url: '/v1/channels/kick-200/bot-settings',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { enabled: true, mode: 'everyone', approvedUsers: [], cooldownS: 60, minClipS: 50, maxClipS: 10, replies: true },
    });
    expect(badSettings.statusCode).toBe(422);
  });
});

describe("a streamer's last activity", () => {
  it('moves forward on a non-chat Kick webhook (not on events the services publish), throttled, never back', async () => {
    await sql`INSERT INTO streamers (id, display_name) VALUES (701, 'followed')`.execute(db.db);
    await sql`INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug) VALUES (701, 'kick', '7001', 'followed')`.execute(db.db);
    const activity = async () =>
      (await sql<{ at: Date | null; kind: string | null }>`
        SELECT last_activity_at AS at, last_activity_kind AS kind FROM streamers WHERE id = 701`.execute(db.db)).rows[0]!;
    const event = (eventId: string, type: string, at: number) => ({
      platform: 'kick' as const,
      eventId,
      type,
      channelId: '7001',
      receivedAt: new Date(at).toISOString(),
      data: { broadcaster: { user_id: 7001 } },
    });

    // The bot's own clip event is on the same stream: not a webhook.
    await publishEvent(env.messaging, env.topology, event('own-clip', 'clip.created', T0 + 3_600_000));
    await caughtUp();
    expect(await activity()).toEqual({ at: null, kind: null });

    await publishEvent(env.messaging, env.topology, event('follow-1', 'channel.followed', T0 + 60_000));
    await waitFor(activity, (a) => a.at?.getTime() === T0 + 60_000, { what: 'follow recorded' });
    expect((await activity()).kind).toBe('webhook');
    // Within 30 s of the stored value: left as it is; an older one never moves it back; past 30 s: moved.
    await publishEvent(env.messaging, env.topology, event('sub-1', 'channel.subscription.new', T0 + 80_000));
    await publishEvent(env.messaging, env.topology, event('follow-0', 'channel.followed', T0));
    await caughtUp();
    expect((await activity()).at).toEqual(new Date(T0 + 60_000));
    await publishEvent(env.messaging, env.topology, event('gift-1', 'kicks.gifted', T0 + 120_000));
    await waitFor(activity, (a) => a.at?.getTime() === T0 + 120_000, { what: 'gift recorded' });
  });
});
