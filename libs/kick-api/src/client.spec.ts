import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKickClient, parseRetryAfter, type KickClientOptions } from './client';
import { KickApiError, KickAuthError, KickUnavailableError } from './errors';
import { startFakeKick, type FakeKick } from './testing';

let kick: FakeKick;

beforeEach(async () => {
  kick = await startFakeKick({ tokenExpiresInS: 3_600 });
});

afterEach(async () => {
  await kick.close();
});

const T0 = Date.UTC(2026, 10, 23, 12);

/** A client on the fake with a recorded, instant sleep and a clock the test moves. */
function setup(overrides: Partial<KickClientOptions> = {}) {
  const sleeps: number[] = [];
  const clock = { now: T0 };
  const client = createKickClient({
    apiBase: kick.apiBase,
    oauthBase: kick.oauthBase,
    clientId: kick.clientId,
    clientSecret: kick.clientSecret,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { client, sleeps, clock };
}

const calls = (endpoint: 'token' | 'channels' | 'users') => kick.requests.filter((r) => r.endpoint === endpoint);

function liveChannel(id: number) {
  kick.setChannel({
    broadcasterUserId: id,
    slug: `chan${id}`,
    title: `stream ${id}`,
    category: { id: 15, name: 'Just Chatting' },
    isLive: true,
    viewerCount: id * 10,
    startedAt: '2026-11-23T10:00:00Z',
    language: 'en',
    activeSubscribersCount: 3,
  });
}

describe('tokens', () => {
  it('fetches one token lazily and reuses it', async () => {
    liveChannel(1);
    const { client } = setup();
    expect(kick.tokensIssued).toBe(0);
    expect(await client.getChannels([1])).toEqual([
      {
        broadcasterUserId: 1,
        slug: 'chan1',
        title: 'stream 1',
        category: { id: 15, name: 'Just Chatting' },
        isLive: true,
        viewerCount: 10,
        streamStartedAt: '2026-11-23T10:00:00.000Z',
        language: 'en',
        activeSubscribersCount: 3,
      },
    ]);
    await client.getChannels([1]);
    expect(kick.tokensIssued).toBe(1);
    expect(calls('channels').map((r) => r.status)).toEqual([200, 200]);
  });

  it('shares one token request between concurrent callers', async () => {
    liveChannel(1);
    const { client } = setup();
    await Promise.all(Array.from({ length: 8 }, () => client.getChannels([1])));
    expect(calls('token')).toHaveLength(1);
  });

  it('refreshes the token 60 s before expires_in runs out', async () => {
    liveChannel(1);
    const { client, clock } = setup();
    await client.getChannels([1]);
    clock.now = T0 + (3_600 - 60) * 1000 - 1;
    await client.getChannels([1]);
    expect(kick.tokensIssued).toBe(1);
    clock.now = T0 + (3_600 - 60) * 1000;
    await client.getChannels([1]);
    expect(kick.tokensIssued).toBe(2);
  });

  it('fetches a new token on a 401 and retries the call once', async () => {
    liveChannel(1);
    const { client, sleeps } = setup();
    await client.getChannels([1]);
    kick.revokeTokens();
    expect(await client.getChannels([1])).toHaveLength(1);
    expect(kick.tokensIssued).toBe(2);
    expect(calls('channels').map((r) => r.status)).toEqual([200, 401, 200]);
    expect(sleeps).toEqual([]);
  });

  it('gives up with a 401 KickApiError when the fresh token is refused too', async () => {
    liveChannel(1);
    const { client } = setup();
    kick.failNext(2, 401);
    const err = await client.getChannels([1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KickApiError);
    expect(err).toMatchObject({ endpoint: 'channels', status: 401, bodyMessage: 'injected fault' });
    expect(kick.tokensIssued).toBe(2);
    expect(calls('channels')).toHaveLength(2);
    expect(client.breakerState()).toBe('closed');
  });

  it('throws KickAuthError without retrying when the credentials are refused', async () => {
    const { client, sleeps } = setup({ clientSecret: 'wrong' });
    const err = await client.getChannels([1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KickAuthError);
    expect(err).toMatchObject({ status: 401, oauthError: 'invalid_client' });
    expect(calls('token')).toHaveLength(1);
    expect(calls('channels')).toHaveLength(0);
    expect(sleeps).toEqual([]);
  });

  it('retries the token endpoint on 503', async () => {
    liveChannel(1);
    const { client, sleeps } = setup();
    kick.failNext(1, 503, { endpoint: 'token' });
    expect(await client.getChannels([1])).toHaveLength(1);
    expect(calls('token').map((r) => r.status)).toEqual([503, 200]);
    expect(sleeps).toHaveLength(1);
  });
});

describe('lookups', () => {
  it('asks for 120 ids in 3 calls of at most 50 and leaves unknown ids out', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => i + 1);
    for (const id of ids) if (id % 3 === 0) liveChannel(id);
    const { client } = setup();
    const found = await client.getChannels(ids);
    expect(found.map((c) => c.broadcasterUserId).sort((a, b) => a - b)).toEqual(ids.filter((id) => id % 3 === 0));
    const channelCalls = calls('channels');
    expect(channelCalls).toHaveLength(3);
    for (const call of channelCalls) expect(call.ids.length).toBeLessThanOrEqual(50);
    expect(channelCalls.flatMap((c) => c.ids).sort((a, b) => a - b)).toEqual(ids);
  });

  it('drops duplicate and invalid ids before asking, and asks nothing for none', async () => {
    liveChannel(1);
    const { client } = setup();
    expect(await client.getChannels([])).toEqual([]);
    expect(kick.requests).toHaveLength(0);
    expect(await client.getChannels([1, 1, -5, 2.5, Number.NaN])).toHaveLength(1);
    expect(calls('channels').map((r) => r.ids)).toEqual([[1]]);
  });

  it('returns an empty list when no id is known', async () => {
    const { client } = setup();
    expect(await client.getChannels([404, 405])).toEqual([]);
  });

  it('skips malformed items and keeps the rest', async () => {
    liveChannel(1);
    kick.setRawChannel(2, { slug: 'no-id' });
    kick.setRawChannel(3, 'garbage');
    kick.setRawChannel(4, { broadcaster_user_id: '4', slug: 'strings', stream: { is_live: true, viewer_count: '17' } });
    kick.setRawChannel(5, { broadcaster_user_id: 999, slug: 'not-asked-for' });
    const { client } = setup();
    const found = await client.getChannels([1, 2, 3, 4, 5]);
    expect(found.map((c) => [c.broadcasterUserId, c.viewerCount])).toEqual([
      [1, 10],
      [4, 17],
    ]);
  });

  it('reads users (id, name, picture; Kick offers no follower count)', async () => {
    kick.setUser({ userId: 9, name: 'kim', profilePicture: 'https://files.kick.com/kim.webp', email: 'kim@example.com' });
    const { client } = setup();
    expect(await client.getUsers([9, 10])).toEqual([{ userId: 9, name: 'kim', profilePicture: 'https://files.kick.com/kim.webp' }]);
    expect(calls('users').map((r) => r.ids)).toEqual([[9, 10]]);
  });
});

describe('retries', () => {
  it('retries a 429 after the Retry-After Kick sent', async () => {
    liveChannel(1);
    const { client, sleeps } = setup();
    kick.failNext(1, 429, { retryAfterS: 2 });
    expect(await client.getChannels([1])).toHaveLength(1);
    expect(sleeps).toEqual([2_000]);
    expect(calls('channels').map((r) => r.status)).toEqual([429, 200]);
  });

  it('backs off with jitter when a 429 has no Retry-After', async () => {
    liveChannel(1);
    const { client, sleeps } = setup();
    kick.failNext(1, 429);
    await client.getChannels([1]);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(sleeps[0]).toBeLessThanOrEqual(200);
  });

  it('does not sleep through a Retry-After longer than 30 s', async () => {
    const { client, sleeps } = setup();
    kick.failNext(1, 429, { retryAfterS: 120 });
    const err = await client.getChannels([1]).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KickApiError', status: 429, retryAfterMs: 120_000 });
    expect(sleeps).toEqual([]);
  });

  it('throws after maxRetries when Kick keeps answering 500', async () => {
    const { client, sleeps } = setup({ maxRetries: 3 });
    kick.failNext(10, 500);
    const err = await client.getChannels([1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KickApiError);
    expect(err).toMatchObject({ endpoint: 'channels', failure: 'http', status: 500 });
    expect(calls('channels')).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, attempt) => {
      expect(ms).toBeGreaterThanOrEqual(100 * 2 ** attempt);
      expect(ms).toBeLessThanOrEqual(200 * 2 ** attempt);
    });
  });

  it('does not retry a 400', async () => {
    const { client, sleeps } = setup();
    kick.failNext(1, 400);
    await expect(client.getChannels([1])).rejects.toMatchObject({ status: 400 });
    expect(calls('channels')).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a reset connection', async () => {
    liveChannel(1);
    const { client } = setup();
    kick.failNext(1, 'reset');
    expect(await client.getChannels([1])).toHaveLength(1);
    expect(calls('channels').map((r) => r.status)).toEqual(['reset', 200]);
  });

  it('times out an unanswered request, retries, then fails; the client still works afterwards', async () => {
    liveChannel(1);
    const { client, sleeps } = setup({ timeoutMs: 200, maxRetries: 1 });
    kick.failNext(2, 'timeout');
    const err = await client.getChannels([1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KickApiError);
    expect(err).toMatchObject({ failure: 'timeout', status: null });
    expect(calls('channels').map((r) => r.status)).toEqual(['timeout', 'timeout']);
    expect(sleeps).toHaveLength(1);
    expect(await client.getChannels([1])).toHaveLength(1);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 12:00:10 GMT', T0)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe('breaker', () => {
  const breaker = { failureThreshold: 3, openMs: 30_000 };

  async function openBreaker(client: { getChannels(ids: number[]): Promise<unknown> }) {
    kick.failNext(3, 500);
    for (let i = 0; i < 3; i++) await expect(client.getChannels([1])).rejects.toBeInstanceOf(KickApiError);
  }

  it('opens after consecutive failed calls and then refuses without calling Kick', async () => {
    liveChannel(1);
    const { client } = setup({ maxRetries: 0, breaker });
    await openBreaker(client);
    expect(client.breakerState()).toBe('open');
    const before = kick.requests.length;
    const err = await client.getChannels([1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KickUnavailableError);
    expect((err as KickUnavailableError).cause).toBeInstanceOf(KickApiError);
    expect(kick.requests.length).toBe(before);
  });

  it('half-opens after openMs and closes when the test call succeeds', async () => {
    liveChannel(1);
    const { client, clock } = setup({ maxRetries: 0, breaker });
    await openBreaker(client);
    clock.now += 29_999;
    expect(client.breakerState()).toBe('open');
    clock.now += 1;
    expect(client.breakerState()).toBe('half_open');
    expect(await client.getChannels([1])).toHaveLength(1);
    expect(client.breakerState()).toBe('closed');
  });

  it('reopens when the test call fails', async () => {
    const { client, clock } = setup({ maxRetries: 0, breaker });
    await openBreaker(client);
    clock.now += 30_000;
    kick.failNext(1, 503);
    await expect(client.getChannels([1])).rejects.toBeInstanceOf(KickApiError);
    expect(client.breakerState()).toBe('open');
    await expect(client.getChannels([1])).rejects.toBeInstanceOf(KickUnavailableError);
  });

  it('lets only one call through while half-open', async () => {
    liveChannel(1);
    const { client, clock } = setup({ maxRetries: 0, breaker });
    await openBreaker(client);
    clock.now += 30_000;
    const before = calls('channels').length;
    const results = await Promise.allSettled([client.getChannels([1]), client.getChannels([1]), client.getChannels([1])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    for (const r of results.slice(1)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(KickUnavailableError);
    expect(calls('channels').length - before).toBe(1);
  });

  it('counts a call once, after its retries, and ignores answers like 400', async () => {
    const { client } = setup({ maxRetries: 2, breaker });
    kick.failNext(3, 500);
    await expect(client.getChannels([1])).rejects.toBeInstanceOf(KickApiError);
    expect(client.breakerState()).toBe('closed');
    kick.failNext(5, 400);
    for (let i = 0; i < 5; i++) await expect(client.getChannels([1])).rejects.toMatchObject({ status: 400 });
    expect(client.breakerState()).toBe('closed');
  });
});

describe('metrics', () => {
  it('counts attempts by endpoint and status, times them, and reports the breaker', async () => {
    liveChannel(1);
    const registry = new Registry();
    const { client, clock } = setup({ registry, maxRetries: 1, breaker: { failureThreshold: 1, openMs: 1_000 } });
    kick.failNext(1, 500);
    await client.getChannels([1]);
    const text = await registry.metrics();
    expect(text).toContain('kick_api_requests_total{endpoint="token",status="200"} 1');
    expect(text).toContain('kick_api_requests_total{endpoint="channels",status="500"} 1');
    expect(text).toContain('kick_api_requests_total{endpoint="channels",status="200"} 1');
    expect(text).toContain('kick_api_request_seconds_count{endpoint="channels"} 2');
    expect(text).toContain('kick_api_breaker_state 0');

    kick.failNext(2, 'reset');
    await expect(client.getChannels([1])).rejects.toMatchObject({ failure: 'network' });
    expect(await registry.metrics()).toContain('kick_api_requests_total{endpoint="channels",status="network"} 2');
    expect(await registry.metrics()).toContain('kick_api_breaker_state 2');
    clock.now += 1_000;
    expect(await registry.metrics()).toContain('kick_api_breaker_state 1');
  });

  it('lets several clients share one registry', () => {
    const registry = new Registry();
    setup({ registry });
    expect(() => setup({ registry })).not.toThrow();
  });
});
