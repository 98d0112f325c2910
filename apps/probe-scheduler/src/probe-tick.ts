import type { Kysely } from 'kysely';
import type { Logger } from '@onair/service-kit';
import type { ProbeResult } from '@onair/contracts';
import { claimChannels, type ClaimedChannel } from './sql/claim-channels';
import { recordProbes, type ProbeRow, type ScheduleUpdate } from './sql/record-probes';
import { readSettings } from './sql/read-settings';
import { countDue } from './sql/count-due';
import { claimBudget, type ClaimLog } from './fair-share';
import { ensureMonthlyPartition, monthStart } from '@onair/database';
import { KICK_MAX_IDS_PER_CALL } from '@onair/kick-api';
import { floorMinute, nextProbeAt, probeMinute } from './schedule-policy';
import type { ProbeMetrics } from './metrics';

/** What the tick needs from a platform client (the Kick client satisfies it). */
export interface ChannelSource {
  getChannels(broadcasterUserIds: readonly number[]): Promise<
    Array<{
      broadcasterUserId: number;
      isLive: boolean;
      viewerCount: number;
      streamStartedAt: string | null;
      title: string | null;
      category: { id: number; name: string } | null;
      activeSubscribersCount?: number | null;
    }>
  >;
}

export interface ProbeTickDeps {
  db: Kysely<any>;
  kick: ChannelSource;
  /** Stores each new probe on NATS; resolves when stored (PubAck), throws when it cannot. */
  publish(probes: ProbeResult[]): Promise<void>;
  replica: string;
  /** Most channels claimed per statement. */
  claimLimit: number;
  /** How long a claim holds a channel, in ms; shorter than the cadence so a dead replica's work moves on. */
  holdMs: number;
  /**
   * This replica's share of the minute (fair-share.ts). Absent: claim everything due (one replica, the
   * claim benchmark).
   */
  share?: {
    /** Replicas alive at `now`, this one included. */
    replicas(now: Date): number;
    claims: ClaimLog;
    /** A channel due and unclaimed for this long (ms) is anyone's, whatever the shares. */
    overdueMs: number;
  };
  logger: Logger;
  metrics: ProbeMetrics;
}

export interface TickResult {
  claimed: number;
  probed: number;
  failed: number;
}

/**
 * One round of work for one replica at `now`: claim due channels (at most this replica's share of the
 * minute), ask the platform about them, then in one transaction store the probes and the new schedule and
 * publish the new probes (before the commit). Loops until nothing is due or the share is used up.
 */
export async function runProbeTick(deps: ProbeTickDeps, now: Date): Promise<TickResult> {
  const settings = await readSettings(deps.db);
  const total: TickResult = { claimed: 0, probed: 0, failed: 0 };
  let budget = Number.POSITIVE_INFINITY;
  if (deps.share) {
    const work = await countDue(deps.db, { now, overdueMs: deps.share.overdueMs });
    budget = claimBudget({
      minuteOfWork: work.claimedLastMinute + work.dueNow,
      overdue: work.overdue,
      replicas: deps.share.replicas(now),
      claimedLastMinute: deps.share.claims.lastMinute(now),
    });
  }
  while (budget > 0) {
    // Seeding and due channels are each limited, so a claim may return up to twice `limit`.
    const limit = Math.min(deps.claimLimit, budget);
    const claimed = await claimChannels(deps.db, { now, replica: deps.replica, limit, holdMs: deps.holdMs });
    if (claimed.length === 0) break;
    deps.share?.claims.add(now, claimed.length);
    budget -= claimed.length;
    total.claimed += claimed.length;
    const result = await probeClaimed(deps, now, claimed, settings);
    total.probed += result.probed;
    total.failed += result.failed;
    if (claimed.length < limit) break;
  }
  return total;
}

const knownMonths = new Set<string>();

async function probeClaimed(
  deps: ProbeTickDeps,
  now: Date,
  claimed: ClaimedChannel[],
  settings: { liveProbeMinutes: number; offlineProbeMinutes: number },
): Promise<{ probed: number; failed: number }> {
  const kickChannels = claimed.filter((c) => c.platform === 'kick' && /^\d+$/.test(c.platformUserId));
  // One call per chunk of ids, each with its own outcome: a chunk Kick fails backs off alone, the rest
  // of the claim is still probed.
  type Answer = Awaited<ReturnType<ChannelSource['getChannels']>>[number];
  const byId = new Map<string, Answer>();
  const answered = new Set<string>();
  const chunks: ClaimedChannel[][] = [];
  for (let i = 0; i < kickChannels.length; i += KICK_MAX_IDS_PER_CALL) chunks.push(kickChannels.slice(i, i + KICK_MAX_IDS_PER_CALL));
  const results = await Promise.allSettled(chunks.map((chunk) => deps.kick.getChannels(chunk.map((c) => Number(c.platformUserId)))));
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      for (const c of chunks[i]!) answered.add(c.platformUserId);
      for (const a of result.value) byId.set(String(a.broadcasterUserId), a);
    } else {
      deps.logger.warn({ err: result.reason, channels: chunks[i]!.length }, 'platform call failed: these channels back off');
    }
  });

  const probes: ProbeRow[] = [];
  const schedule: ScheduleUpdate[] = [];
  const platformIds = new Map<number, string>();
  for (const channel of claimed) {
    const slot = probeMinute(channel.dueAt, now);
    const next = (outcome: 'live' | 'offline' | 'error', failures: number) =>
      nextProbeAt({
        now,
        slot,
        outcome,
        consecutiveFailures: failures,
        liveMinutes: settings.liveProbeMinutes,
        offlineMinutes: settings.offlineProbeMinutes,
        channelId: channel.channelId,
      });
    if (!answered.has(channel.platformUserId) || !kickChannels.includes(channel)) {
      const failures = channel.consecutiveFailures + 1;
      schedule.push({ channelId: channel.channelId, nextProbeAt: next('error', failures), probedAt: null, consecutiveFailures: failures, isLive: null });
      continue;
    }
    // An id the platform does not know is answered by its absence: the channel is not live.
    const answer = byId.get(channel.platformUserId);
    const isLive = answer?.isLive ?? false;
    platformIds.set(channel.channelId, channel.platformUserId);
    probes.push({
      channelId: channel.channelId,
      ts: slot,
      isLive,
      viewerCount: isLive ? Math.max(0, Math.trunc(answer?.viewerCount ?? 0)) : 0,
      streamStartedAt: isLive && answer?.streamStartedAt ? floorMinute(new Date(answer.streamStartedAt)) : null,
      title: answer?.title ?? null,
      category: answer?.category?.name ?? null,
      activeSubscribers: answer?.activeSubscribersCount ?? null,
    });
    schedule.push({ channelId: channel.channelId, nextProbeAt: next(isLive ? 'live' : 'offline', 0), probedAt: now, consecutiveFailures: 0, isLive });
  }

  // Partitions are made months ahead by migrations and the summary job; this covers a service that ran
  // on alone past that horizon (cached: one check per month per process).
  for (const probe of probes) {
    const month = monthStart(probe.ts).toISOString();
    if (knownMonths.has(month)) continue;
    await ensureMonthlyPartition(deps.db, 'probes', probe.ts);
    knownMonths.add(month);
  }
  const fresh = await recordProbes(deps.db, deps.replica, probes, schedule, (inserted) =>
    deps.publish(
      inserted.map((p) => ({
        platform: 'kick',
        channelId: p.channelId,
        platformUserId: platformIds.get(p.channelId)!,
        ts: p.ts.toISOString(),
        isLive: p.isLive,
        viewerCount: p.viewerCount,
        streamStartedAt: p.streamStartedAt?.toISOString() ?? null,
        title: p.title,
        category: p.category,
      })),
    ),
  );
  const failed = schedule.filter((s) => s.probedAt === null).length;
  deps.metrics.written.inc(fresh.length);
  if (failed > 0) deps.metrics.failed.inc(failed);
  if (fresh.length > 0) deps.metrics.lastSuccess.set(now.getTime() / 1000);
  return { probed: fresh.length, failed };
}
