import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';

/**
 * Gifts from the room page, end to end: the gifts service and the gateway as real processes, two viewers in
 * headless Chromium. One sends a gift from the page's form (its first answer lost on the way back, so the
 * page retries with the same key); the coins move once, the sender sees the balance after, and the other
 * viewer sees the gift and the leaderboard move live (gifts → JetStream → gateway → Soketi → pusher-js).
 */
const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SESSION_SECRET = 'e2e-room-gifts-secret-0123456789abcdef';
const SESSION = testSessionKeys(SESSION_SECRET);
const ADMIN = 'e2e-room-gifts-admin-token-0123456789';
const ROOM = 'e2e-gifts';

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let gifts: SpawnedService;
let gateway: SpawnedService;
let giftsUrl: string;
let gatewayUrl: string;
let browser: Browser;

beforeAll(async () => {
  env = await createTestTopology('e2e-room-gifts');
  testDb = await createTestDatabase('e2e_room_gifts');
  const common = { NATS_NAMESPACE: env.topology.namespace, DATABASE_URL: testDb.url, SESSION_JWT_SECRET: SESSION_SECRET, LOG_LEVEL: 'warn' };
  const [giftsPort, gatewayPort] = [await freePortForTests(), await freePortForTests()];
  giftsUrl = `http://127.0.0.1:${giftsPort}`;
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  // Gifts first: it migrates the database the gateway reads.
  gifts = await spawnService({ main: app('gifts'), port: giftsPort, env: { ...common, ADMIN_TOKEN: ADMIN } });
  gateway = await spawnService({ main: app('realtime-gateway'), port: gatewayPort, env: { ...common, GIFTS_URL: giftsUrl } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([gifts?.kill('SIGTERM'), gateway?.kill('SIGTERM')]);
  await env?.cleanup();
  await testDb?.drop();
});

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${gatewayUrl}${path}`);
  await page.waitForSelector('body[data-connection="connected"]', { timeout: 30_000 });
  return { page, errors };
}

const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${giftsUrl}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.headers as Record<string, string>) },
  });

describe('gifts from the room page', () => {
  it('sends a gift once (a lost answer retried with the same key), shows the balance after, and a second viewer sees the gift and the leaderboard', async () => {
    const owner = signSessionToken({ id: 'owner', name: 'Owner', ownsRooms: [ROOM] }, SESSION);
    const ada = signSessionToken({ id: 'ada', name: 'Ada' }, SESSION);
    expect((await api(`/v1/rooms/${ROOM}/gifting`, { method: 'PUT', token: owner, body: JSON.stringify({ open: true }) })).status).toBe(200);
    expect((await api('/v1/wallets/ada/grants', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ amount: 100, idempotencyKey: 'e2e-grant' }) })).status).toBe(200);

    const watcher = await open(`/rooms/${ROOM}`);
    // Not signed in: the sign-in field, no gift form.
    expect(await watcher.page.locator('#sign-in').isVisible()).toBe(true);
    expect(await watcher.page.locator('#gift-form').isVisible()).toBe(false);

    const sender = await open(`/rooms/${ROOM}#token=${ada}`);
    await sender.page.waitForSelector('body[data-gifts="ready"]', { timeout: 30_000 });
    expect(new URL(sender.page.url()).hash).toBe(''); // the token left the address bar
    expect(await sender.page.locator('#balance').textContent()).toBe('100');
    expect(await sender.page.locator('#gift-choice option').allTextContents()).toEqual(['Rose (1)', 'Heart (5)', 'Star (25)', 'Rocket (100)']);

    // The first POST reaches the gifts service (the gift is taken) but its answer is lost: the page retries.
    const posts: Array<{ idempotencyKey: string; giftId: string; quantity: number }> = [];
    let lost = false;
    await sender.page.route('**/gifts/v1/rooms/*/gifts', async (route) => {
      posts.push(route.request().postDataJSON());
      if (!lost) {
        lost = true;
        await route.fetch(); // delivered and answered 201...
        return route.abort('connectionreset'); // ...but the browser never sees it
      }
      return route.continue();
    });
    await sender.page.selectOption('#gift-choice', 'star');
    await sender.page.fill('#gift-quantity', '2');
    await sender.page.click('#gift-send');
    await sender.page.waitForSelector('#gift-form[data-outcome="sent"]', { timeout: 30_000 });
    expect(await sender.page.locator('#balance').textContent()).toBe('50'); // 100 − 2 × 25, once
    expect(posts).toHaveLength(2);
    expect(posts[1]).toEqual(posts[0]);
    expect(posts[0]).toEqual({ giftId: 'star', quantity: 2, idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((await (await api('/v1/wallet', { token: ada })).json()).balance).toBe(50);

    // The other viewer sees the gift and the leaderboard move, live.
    await watcher.page.waitForSelector('#gifts li', { timeout: 30_000 });
    expect(await watcher.page.locator('#gifts li').allTextContents()).toEqual(['Ada sent Star (50)']);
    await watcher.page.waitForFunction(() => document.querySelectorAll('#leaderboard-day li').length === 1, undefined, { timeout: 30_000 });
    expect(await watcher.page.locator('#leaderboard-day li').allTextContents()).toEqual(['Ada 50']);
    expect(await watcher.page.locator('#leaderboard-stream li').count()).toBe(0); // the room is not on air

    // A second click is a new key: refused for want of coins, with the reason and the balance.
    await sender.page.unroute('**/gifts/v1/rooms/*/gifts');
    await sender.page.selectOption('#gift-choice', 'rocket');
    await sender.page.fill('#gift-quantity', '1');
    await sender.page.click('#gift-send');
    await sender.page.waitForSelector('#gift-form[data-outcome="insufficient_funds"]', { timeout: 30_000 });
    expect(await sender.page.locator('#gift-status').textContent()).toBe('Not enough coins for this gift');
    expect(await sender.page.locator('#balance').textContent()).toBe('50');

    // A page opened later starts from the leaderboard route.
    const late = await open(`/rooms/${ROOM}`);
    await late.page.waitForFunction(() => document.querySelectorAll('#leaderboard-day li').length === 1, undefined, { timeout: 30_000 });
    expect(await late.page.locator('#leaderboard-day li').allTextContents()).toEqual(['Ada 50']);
    expect([...watcher.errors, ...sender.errors, ...late.errors]).toEqual([]);
  });
});
