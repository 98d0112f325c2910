import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, migrateToLatest, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { claimChannels } from './sql/claim-channels';
import { recordProbes } from './sql/record-probes';
import { floorMinute, nextProbeAt } from './schedule-policy';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let handle: Db;
const T0 = new Date('2026-11-23T12:00:00Z');

beforeAll(async () => {
  testDb = await createTestDatabase('probe_claim');
  handle = createDb({ url: testDb.url, poolMax: 8 });
  await migrateToLatest(handle.db, T0);
  const streamers = await sql<{ id: number }>`
    INSERT INTO streamers (display_name, status)
    SELECT 's' || g, CASE WHEN g % 10 = 0 THEN 'archived' WHEN g % 10 = 5 THEN 'suspended' ELSE 'active' END
    FROM generate_series(1, 300) g RETURNING id`.execute(handle.db);
  expect(streamers.rows).toHaveLength(300);
  await sql`
    INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
    SELECT id, 'kick', (100000 + id)::text, 'slug' || id FROM streamers`.execute(handle.db);
});
afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

describe('claimChannels', () => {
  it('gives concurrent replicas disjoint sets, skipping archived and suspended streamers', async () => {
    const claims = await Promise.all(
      ['a', 'b', 'c'].map((replica) => claimChannels(handle.db, { now: T0, replica, limit: 1000, holdMs: 45_000 })),
    );
    const all = claims.flat().map((c) => c.channelId);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(240);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM streamer_channels c JOIN streamers s ON s.id = c.streamer_id
      WHERE s.status <> 'active' AND c.id = ANY(${all}::bigint[])`.execute(handle.db);
    expect(rows[0]!.n).toBe(0);
  });

  it('does not hand out held channels again until the hold expires', async () => {
    const again = await claimChannels(handle.db, { now: new Date(T0.getTime() + 10_000), replica: 'd', limit: 1000, holdMs: 45_000 });
    expect(again).toEqual([]);
    const afterHold = await claimChannels(handle.db, { now: new Date(T0.getTime() + 46_000), replica: 'd', limit: 1000, holdMs: 45_000 });
    expect(afterHold).toHaveLength(240);
    // Release for the next test: record every channel as probed, live, next minute.
    const now = new Date(T0.getTime() + 46_000);
    await recordProbes(
      handle.db,
      'd',
      afterHold.map((c) => ({ channelId: c.channelId, ts: floorMinute(now), isLive: true, viewerCount: 10, streamStartedAt: T0, title: 't', category: 'c', activeSubscribers: null })),
      afterHold.map((c) => ({
        channelId: c.channelId,
        nextProbeAt: nextProbeAt({ now, outcome: 'live', consecutiveFailures: 0, liveMinutes: 1, offlineMinutes: 5, channelId: c.channelId }),
        probedAt: now,
        consecutiveFailures: 0,
        isLive: true,
      })),
    );
  });

  it('never lets a replica whose hold expired overwrite the schedule of the replica that took over', async () => {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM probe_schedule WHERE claimed_by IS NOT NULL`.execute(handle.db);
    expect(rows[0]!.n).toBe(0);
    const late = new Date(T0.getTime() + 3 * 60_000);
    const [first] = await claimChannels(handle.db, { now: late, replica: 'slow', limit: 1, holdMs: 1_000 });
    const takeover = new Date(late.getTime() + 2_000);
    const second = await claimChannels(handle.db, { now: takeover, replica: 'fast', limit: 1000, holdMs: 45_000 });
    expect(second.map((c) => c.channelId)).toContain(first!.channelId);
    await recordProbes(handle.db, 'slow', [], [{ channelId: first!.channelId, nextProbeAt: new Date(0), probedAt: late, consecutiveFailures: 0, isLive: false }]);
    const { rows: schedule } = await sql<{ claimed_by: string }>`SELECT claimed_by FROM probe_schedule WHERE channel_id = ${first!.channelId}`.execute(handle.db);
    expect(schedule[0]!.claimed_by).toBe('fast');
  });

  it('stores one probe per channel-minute however often it is recorded', async () => {
    const ts = new Date('2026-11-23T12:30:00Z');
    const probe = { channelId: 1, ts, isLive: true, viewerCount: 5, streamStartedAt: null, title: null, category: null, activeSubscribers: 3 };
    expect(await recordProbes(handle.db, 'x', [probe], [])).toHaveLength(1);
    expect(await recordProbes(handle.db, 'y', [probe, { ...probe, viewerCount: 6 }], [])).toHaveLength(0);
  });

  it("moves the streamer's last activity forward on a live sighting, never back, and not on an offline one", async () => {
    const probe = (minute: string, isLive: boolean) => ({
      channelId: 2, ts: new Date(`2026-11-23T${minute}:00Z`), isLive, viewerCount: 5, streamStartedAt: null, title: null, category: null, activeSubscribers: null,
    });
    const activity = async () => (await sql<{ live: Date; at: Date; kind: string }>`
      SELECT last_live_at AS live, last_activity_at AS at, last_activity_kind AS kind FROM streamers WHERE id = 2`.execute(handle.db)).rows[0]!;
    // A chat message (chat-writer) newer than the next sighting.
    await sql`UPDATE streamers SET last_activity_at = '2026-11-23T13:00:00Z', last_activity_kind = 'chat' WHERE id = 2`.execute(handle.db);
    await recordProbes(handle.db, 'x', [probe('12:40', true)], []);
    expect(await activity()).toEqual({ live: new Date('2026-11-23T12:40:00Z'), at: new Date('2026-11-23T13:00:00Z'), kind: 'chat' });
    await recordProbes(handle.db, 'x', [probe('13:05', true)], []);
    expect(await activity()).toEqual({ live: new Date('2026-11-23T13:05:00Z'), at: new Date('2026-11-23T13:05:00Z'), kind: 'live' });
    await recordProbes(handle.db, 'x', [probe('13:10', false), probe('12:50', true)], []);
    expect(await activity()).toEqual({ live: new Date('2026-11-23T13:05:00Z'), at: new Date('2026-11-23T13:05:00Z'), kind: 'live' });
  });
});

describe('seeding', () => {
  it('seeds a channel added later, and again one whose schedule row was deleted; a deleted channel takes its schedule with it', async () => {
    const later = new Date(T0.getTime() + 3_600_000);
    // Everything seeded earlier is held or due; take it all out of the way first.
    await claimChannels(handle.db, { now: later, replica: 'sweep', limit: 10_000, holdMs: 600_000 });
    const { rows } = await sql<{ id: number }>`
      INSERT INTO streamer_channels (streamer_id, platform, platform_user_id, slug)
      VALUES (1, 'kick', '999001', 'late-joiner') RETURNING id`.execute(handle.db);
    const added = Number(rows[0]!.id);
    const first = await claimChannels(handle.db, { now: later, replica: 'x', limit: 100, holdMs: 45_000 });
    expect(first.map((c) => c.channelId)).toEqual([added]);

    await sql`DELETE FROM probe_schedule WHERE channel_id = ${added}`.execute(handle.db);
    const again = await claimChannels(handle.db, { now: later, replica: 'y', limit: 100, holdMs: 45_000 });
    expect(again.map((c) => c.channelId)).toEqual([added]);
    expect(await claimChannels(handle.db, { now: later, replica: 'z', limit: 100, holdMs: 45_000 })).toEqual([]);

    await sql`DELETE FROM streamer_channels WHERE id = ${added}`.execute(handle.db);
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM probe_schedule WHERE channel_id = ${added}`.execute(handle.db);
    expect(left.rows[0]!.n).toBe(0);
  });
});

describe('nextProbeAt', () => {
  const base = { consecutiveFailures: 0, liveMinutes: 1, offlineMinutes: 5, channelId: 3 };
  it('puts live channels in the next minute at their offset, offline ones later, failing ones further back', () => {
    const now = new Date('2026-11-23T12:00:50Z');
    expect(nextProbeAt({ ...base, now, outcome: 'live' }).toISOString()).toBe('2026-11-23T12:01:57.000Z');
    expect(nextProbeAt({ ...base, now, outcome: 'offline' }).toISOString()).toBe('2026-11-23T12:05:57.000Z');
    expect(nextProbeAt({ ...base, now, outcome: 'error', consecutiveFailures: 3 }).toISOString()).toBe('2026-11-23T12:08:57.000Z');
    expect(nextProbeAt({ ...base, now, outcome: 'error', consecutiveFailures: 9 }).toISOString()).toBe('2026-11-23T12:30:57.000Z');
  });
});
