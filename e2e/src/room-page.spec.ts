import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestDatabase } from '@onair/database/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, type SpawnedService } from '@onair/service-kit/testing';
import { signSessionToken } from '@onair/session';
import { testSessionKeys } from '@onair/session/testing';
import { kickWebhookHeaders } from './kick-webhook';

/**
 * A person's view, end to end: the gateway's live room page open in headless Chromium (Debian's, driven
 * by playwright-core), chat posted over HTTP to ingest, and the page showing it — through JetStream,
 * the gateway's fan-out, Soketi and pusher-js in the browser.
 */
const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SESSION_SECRET = 'e2e-room-page-secret-0123456789abcdef';
const SESSION = testSessionKeys(SESSION_SECRET);
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let ingest: SpawnedService;
let gateway: SpawnedService;
let ingestUrl: string;
let gatewayUrl: string;
let browser: Browser;

beforeAll(async () => {
  env = await createTestTopology('e2e-room-page');
  testDb = await createTestDatabase('e2e_room_page');
  const common = { NATS_NAMESPACE: env.topology.namespace, DATABASE_URL: testDb.url, SESSION_JWT_SECRET: SESSION_SECRET, LOG_LEVEL: 'warn' };
  const [ingestPort, gatewayPort] = [await freePortForTests(), await freePortForTests()];
  ingestUrl = `http://127.0.0.1:${ingestPort}`;
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const started = await Promise.allSettled([
    spawnService({ main: app('ingest'), port: ingestPort, env: { ...common, KICK_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() } }),
    spawnService({ main: app('realtime-gateway'), port: gatewayPort, env: common }),
  ]);
  // If one refuses to start, the other must not outlive the test.
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.kill('SIGTERM') : undefined)));
    throw failed.reason;
  }
  [ingest, gateway] = started.map((r) => (r as PromiseFulfilledResult<SpawnedService>).value) as [SpawnedService, SpawnedService];
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Playwright gives it a fresh temporary profile. This machine's network is closed: Chromium's own background traffic only adds refused connections.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([ingest?.kill('SIGTERM'), gateway?.kill('SIGTERM')]);
  await env?.cleanup();
  await testDb?.drop();
});

async function openRoom(roomId: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${gatewayUrl}/rooms/${roomId}`);
  // Connected and subscribed before anything is posted, as a viewer would be.
  await page.waitForSelector('body[data-connection="connected"]', { timeout: 30_000 });
  expect(errors).toEqual([]);
  return page;
}

function kickGift(channelId: number) {
  const id = `evt-${randomUUID()}`;
  const timestamp = new Date().toISOString();
  const body = JSON.stringify({
    broadcaster: { user_id: channelId, username: 'streamer', channel_slug: 'streamer' },
    sender: { user_id: 77, username: 'generous', channel_slug: 'generous' },
    gift: { amount: 100, name: 'Full Send', type: 'BASIC' },
    created_at: timestamp,
  });
  const headers = kickWebhookHeaders(privateKey, { id, timestamp, type: 'kicks.gifted', body });
  return fetch(`${ingestUrl}/webhooks/kick`, { method: 'POST', headers, body });
}

describe('live room page', () => {
  it('shows chat posted through ingest, in order, in a real browser', async () => {
    const page = await openRoom('e2e-lobby');
    const token = signSessionToken({ id: 'ada', name: 'Ada' }, SESSION);
    for (const content of ['first!', 'hello from the e2e test', 'third']) {
      const res = await fetch(`${ingestUrl}/v1/rooms/e2e-lobby/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ content }),
      });
      expect(res.status).toBe(202);
    }
    await page.waitForFunction(() => document.querySelectorAll('#chat li').length === 3, undefined, { timeout: 30_000 });
    expect(await page.locator('#chat li').allTextContents()).toEqual(['Ada first!', 'Ada hello from the e2e test', 'Ada third']);

    // A reload starts from the history: the same three, once each.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#chat li').length === 3, undefined, { timeout: 30_000 });
    expect(await page.locator('#chat li').allTextContents()).toEqual(['Ada first!', 'Ada hello from the e2e test', 'Ada third']);
    await page.close();
  });

  it('shows a Kick gift on the channel’s room page', async () => {
    const page = await openRoom('kick-4242');
    expect((await kickGift(4242)).status).toBe(202);
    await page.waitForSelector('#gifts li', { timeout: 30_000 });
    expect(await page.locator('#gifts li').first().textContent()).toBe('generous sent Full Send (100)');
    await page.close();
  });
});
