import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { sql } from 'kysely';
import { createDb, ensureMonthlyPartitions, type Db } from '@onair/database';
import { createTestDatabase } from '@onair/database/testing';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';
import { createTestTopology } from '@onair/messaging/testing';
import { freePortForTests, spawnService, waitFor, type SpawnedService } from '@onair/service-kit/testing';
import { kickWebhookHeaders } from './kick-webhook';

/**
 * The operators' console as an operator uses it, in headless Chromium (Debian's, driven by playwright-core):
 * summary, ingest and the gateway as real processes, Kick replaced by the fake Kick. Sign in with a token,
 * add a Kick streamer by slug through the form (its subscriptions appear at the fake Kick), open it, see
 * the viewers chart drawn from known probes (checked on the screenshot's pixels, and shown to fail on an
 * empty chart), the 30 days, a signed chat webhook in its chat tail; keyboard only; 1280×800 and a phone.
 */
const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ADMIN = 'e2e-console-admin-token-0123456789abcdef';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const BROADCASTER = 4_242_001;
const SLUG = 'console-star';
/** The chart's day: fixed, with its own partition (summary keeps 10 years here, so retention leaves it). */
const DAY = '2026-03-14';
/** The series colour of the first channel (console.browser.ts COLORS[0]). */
const SERIES_RGB: [number, number, number] = [0x1f, 0x6f, 0xeb];

let env: Awaited<ReturnType<typeof createTestTopology>>;
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db;
let kick: FakeKick;
let services: SpawnedService[] = [];
let summaryUrl: string;
let ingestUrl: string;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  env = await createTestTopology('e2e-console');
  testDb = await createTestDatabase('e2e_console');
  db = createDb({ url: testDb.url, poolMax: 2 });
  kick = await startFakeKick();
  kick.setChannel({ broadcasterUserId: BROADCASTER, slug: SLUG, title: 'Console test stream', isLive: true, viewerCount: 321 });
  const common = { NATS_NAMESPACE: env.topology.namespace, DATABASE_URL: testDb.url, LOG_LEVEL: 'warn', ADMIN_TOKEN: ADMIN };
  const [summaryPort, ingestPort, gatewayPort] = [await freePortForTests(), await freePortForTests(), await freePortForTests()];
  summaryUrl = `http://127.0.0.1:${summaryPort}`;
  ingestUrl = `http://127.0.0.1:${ingestPort}`;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const started = await Promise.allSettled([
    spawnService({
      main: app('summary'),
      port: summaryPort,
      env: {
        ...common,
        KICK_API_BASE: kick.apiBase,
        KICK_OAUTH_BASE: kick.oauthBase,
        KICK_CLIENT_ID: kick.clientId,
        KICK_CLIENT_SECRET: kick.clientSecret,
        CONSOLE_GATEWAY_URL: gatewayUrl,
        RETENTION_DAYS: '3650',
        CLICKHOUSE_URL: '',
      },
    }),
    spawnService({ main: app('ingest'), port: ingestPort, env: { ...common, SESSION_JWT_SECRET: 'e2e-console-session-secret-0123456789', KICK_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() } }),
    spawnService({ main: app('realtime-gateway'), port: gatewayPort, env: { ...common, SESSION_JWT_SECRET: 'e2e-console-session-secret-0123456789' } }),
  ]);
  services = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  // The summary migrated its database at start; the chart's month gets its partition here.
  await ensureMonthlyPartitions(db.db, 'probes', new Date(`${DAY}T00:00:00Z`), 0, 0);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await Promise.all(services.map((s) => s.kill('SIGTERM')));
  await kick?.close();
  await env?.cleanup();
  await db?.close();
  await testDb?.drop();
});

/** A fresh browser profile (its own cookies) at a viewport size, watching for script errors. */
async function newPage(viewport = { width: 1280, height: 800 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}

async function signIn(page: Page, token: string) {
  await page.goto(`${summaryUrl}/console`);
  await page.waitForSelector('body[data-state="signed-out"]');
  await page.fill('#login-token', token);
  await page.press('#login-token', 'Enter');
  await page.waitForSelector('body[data-state="signed-in"]');
}

/** Pixels of the chart's screenshot in the series colour: the drawn line, as a person would see it. */
async function seriesInk(page: Page): Promise<number> {
  const png = await page.locator('#viewers-chart').screenshot();
  return page.evaluate(
    async ({ data, rgb }) => {
      const image = new Image();
      image.src = `data:image/png;base64,${data}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const px = context.getImageData(0, 0, image.width, image.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i]! - rgb[0]) < 48 && Math.abs(px[i + 1]! - rgb[1]) < 48 && Math.abs(px[i + 2]! - rgb[2]) < 48) n++;
      }
      return n;
    },
    { data: png.toString('base64'), rgb: SERIES_RGB },
  );
}

async function seedProbesAndSummaries(channelId: number) {
  // 6 hours live from 14:00 UTC, viewers rising and falling: a line across a quarter of the chart.
  const start = Date.parse(`${DAY}T14:00:00Z`);
  const rows = Array.from({ length: 360 }, (_, i) => ({ ts: new Date(start + i * 60_000), viewers: Math.round(200 + 150 * Math.sin((i / 360) * Math.PI)) }));
  for (const r of rows) {
    await sql`INSERT INTO probes (ts, channel_id, is_live, viewer_count, title) VALUES (${r.ts}, ${channelId}, true, ${r.viewers}, 'Console test stream')`.execute(db.db);
  }
  for (let d = 1; d <= 5; d++) {
    const day = new Date(Date.parse(`${DAY}T00:00:00Z`) - d * 86_400_000).toISOString().slice(0, 10);
    await sql`
      INSERT INTO daily_summaries (day, channel_id, viewer_hours, live_minutes, streams, peak_viewers, avg_viewers, chat_messages, unique_chatters, computed_at, source)
      VALUES (${day}, ${channelId}, ${100 * d}, 300, 1, ${400 + d}, 250, ${1000 + d}, 80, ${new Date(`${DAY}T00:05:00Z`)}, 'postgres')`.execute(db.db);
  }
}

describe('operators console', () => {
  let streamerId: number;
  let channelId: number;

  it('signs in, adds a Kick streamer by slug through the form, and lists it; Kick has its subscriptions', async () => {
    const { page, errors } = await newPage();
    await page.goto(`${summaryUrl}/console`);
    await page.waitForSelector('body[data-state="signed-out"]');
    // A wrong token is refused on the form, nothing else happens.
    await page.fill('#login-token', 'not-a-token-at-all-but-long-enough');
    await page.press('#login-token', 'Enter');
    await expect.poll(() => page.textContent('#login-error')).toContain('not a valid operator token');
    await signIn(page, ADMIN);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'onair_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

    await page.fill('#add-slug', 'no-such-channel');
    await page.press('#add-slug', 'Enter');
    await expect.poll(() => page.textContent('#add-status')).toContain('unknown_channel');

    await page.fill('#add-slug', SLUG);
    await page.click('#add-form button[type="submit"]');
    await expect.poll(() => page.textContent('#add-status'), { timeout: 15_000 }).toContain('added');
    await page.waitForSelector(`#streamer-list a:has-text("${SLUG}")`);
    await page.waitForFunction(() => /^#\/streamers\/\d+$/.test(location.hash));
    streamerId = Number((await page.evaluate(() => location.hash)).split('/')[2]);
    await expect.poll(() => page.textContent('#detail h2')).toBe(SLUG);
    // Adding it was the newest activity: an operator's write.
    expect(await page.textContent(`#streamer-list a[data-id="${streamerId}"] .when`)).toContain('operator');

    const subscribed = kick.subscriptions(BROADCASTER).map((s) => s.event).sort();
    expect(subscribed).toEqual(expect.arrayContaining(['chat.message.sent', 'kicks.gifted', 'livestream.status.updated']));
    const channel = await sql<{ id: string }>`SELECT id FROM streamer_channels WHERE platform = 'kick' AND platform_user_id = ${String(BROADCASTER)}`.execute(db.db);
    channelId = Number(channel.rows[0]!.id);
    expect(errors).toEqual([]);
  });

  it('draws the viewers chart from known probes (and the check fails on an empty chart), with the 30 days', async () => {
    await seedProbesAndSummaries(channelId);
    const { page, errors } = await newPage();
    await signIn(page, ADMIN);
    await page.goto(`${summaryUrl}/console#/streamers/${streamerId}/${DAY}`);
    await page.waitForSelector('#viewers-chart[data-points="360"]');
    await expect.poll(() => page.textContent('#viewers-caption')).toContain('peak 350');
    const drawn = await seriesInk(page);
    expect(drawn, 'the line is visible on the screenshot').toBeGreaterThan(300);

    // The same check on the day before (no probes): the chart is empty and the check would fail.
    const before = new Date(Date.parse(`${DAY}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${summaryUrl}/console#/streamers/${streamerId}/${before}`);
    await page.waitForSelector('#viewers-chart[data-points="0"]');
    expect(await seriesInk(page)).toBeLessThan(20);

    // 30 days ending on the chosen day: 5 summaries, as bars and as table rows.
    await page.goto(`${summaryUrl}/console#/streamers/${streamerId}/${DAY}`);
    await page.waitForSelector('#viewers-chart[data-points="360"]');
    await page.waitForSelector('#summaries-chart[data-days="5"]');
    expect(await page.locator('#summaries-chart rect.bar').count()).toBe(5);
    expect(await page.locator('#summaries-table tbody tr').count()).toBe(5);
    expect(await page.textContent('#summaries-table tbody tr:first-child')).toContain('2026-03-13');
    await page.waitForSelector('#health-table');
    expect(await page.textContent('#health-table')).toContain('healthy');
    expect(errors).toEqual([]);
  });

  it('shows a signed Kick chat webhook in the streamer\'s chat tail, live', async () => {
    const { page, errors } = await newPage();
    await signIn(page, ADMIN);
    await page.goto(`${summaryUrl}/console#/streamers/${streamerId}`);
    await page.waitForFunction(() => document.body.dataset['chat'] === 'connected');
    const messageId = randomUUID();
    // Kick signs with the time it sends: ingest checks it against its own clock.
    const timestamp = new Date().toISOString();
    const body = JSON.stringify({
      message_id: messageId,
      broadcaster: { user_id: BROADCASTER, username: SLUG, channel_slug: SLUG },
      sender: { user_id: 777, username: 'console_viewer', channel_slug: 'console_viewer' },
      content: 'hello from the console test',
      emotes: [],
      created_at: timestamp,
    });
    const response = await fetch(`${ingestUrl}/webhooks/kick`, { method: 'POST', headers: kickWebhookHeaders(privateKey, { id: `evt-${messageId}`, timestamp, type: 'chat.message.sent', body }), body });
    expect(response.status).toBe(202);
    await page.waitForSelector('#chat-tail li:has-text("hello from the console test")', { timeout: 20_000 });
    expect(await page.textContent('#chat-tail')).toContain('console_viewer');
    expect(errors).toEqual([]);
  });

  it('is usable with the keyboard alone: search, arrow down, Enter opens the streamer', async () => {
    const { page } = await newPage();
    await signIn(page, ADMIN);
    await page.goto(`${summaryUrl}/console#/streamers`);
    await page.waitForSelector('#streamer-list a');
    // Tab from the start of the page reaches the search box.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'search'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    expect(focused).toBe('search');
    await page.keyboard.type('console');
    await waitFor(() => page.locator('#streamer-list a').count(), (n) => n === 1, { what: 'the search narrowed the list' });
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent ?? '')).toContain(SLUG);
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => location.hash === `#/streamers/${id}`, streamerId);
    await expect.poll(() => page.textContent('#detail h2')).toBe(SLUG);
  });

  it('reads at 1280×800 and at phone width without sideways scrolling; the phone shows list, then detail', async () => {
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const { page, errors } = await newPage(viewport);
      await signIn(page, ADMIN);
      await page.goto(`${summaryUrl}/console#/streamers/${streamerId}/${DAY}`);
      await page.waitForSelector('#viewers-chart[data-points="360"]');
      await page.waitForSelector('#summaries-table');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${viewport.width}px wide`).toBeLessThanOrEqual(0);
      const chartWidth = (await page.locator('#viewers-chart').boundingBox())!.width;
      expect(chartWidth).toBeLessThanOrEqual(viewport.width);
      if (viewport.width < 760) {
        expect(await page.isVisible('#list-pane')).toBe(false);
        await page.click('#detail a.back');
        await page.waitForSelector('#list-pane', { state: 'visible' });
        expect(await page.isVisible('#detail')).toBe(false);
        await page.click(`#streamer-list a[data-id="${streamerId}"]`);
        await page.waitForSelector('#detail', { state: 'visible' });
      } else {
        expect(await page.isVisible('#list-pane')).toBe(true);
        expect(await page.isVisible('#detail')).toBe(true);
      }
      expect(errors).toEqual([]);
    }
  });

  it('a second operator does not see the streamer until it is assigned to them', async () => {
    const created = await fetch(`${summaryUrl}/v1/operators`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'second-operator', role: 'operator' }),
    });
    const operator = (await created.json()) as { id: number; token: string };
    const { page } = await newPage();
    await signIn(page, operator.token);
    await page.waitForSelector('#streamer-list li');
    expect(await page.textContent('#streamer-list')).toContain('No streamers yet');
    expect(await page.isVisible('#add-form')).toBe(false);
    expect(await page.isVisible('a[data-section="audit"]')).toBe(false);
    await page.goto(`${summaryUrl}/console#/streamers/${streamerId}`);
    await expect.poll(() => page.textContent('#detail')).toContain('not assigned to you');

    const assign = await fetch(`${summaryUrl}/v1/streamers/${streamerId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assignedOperatorId: operator.id }),
    });
    expect(assign.status).toBe(200);
    await page.reload();
    await page.waitForSelector(`#streamer-list a[data-id="${streamerId}"]`);
    // The operator pauses it from the console (a cookie write with its CSRF token); the audit log names them.
    await page.goto(`${summaryUrl}/console#/streamers/${streamerId}`);
    await page.click('#detail button:has-text("Pause")');
    await page.waitForSelector('#detail .badge.suspended');
    const audit = await sql<{ actor: string; action: string }>`
      SELECT actor, action FROM audit_log WHERE target_type = 'streamer' AND target_id = ${String(streamerId)} ORDER BY id DESC LIMIT 1`.execute(db.db);
    expect(audit.rows[0]).toEqual({ actor: 'second-operator', action: 'streamer.update' });
  });

  it('shows the audit log and the job runs, failures highlighted, and re-runs a day\'s summary', async () => {
    await sql`
      INSERT INTO job_runs (name, period_key, attempt, status, worker, started_at, finished_at, error)
      VALUES ('retention', '2026-03-10', 1, 'failed', 'e2e', ${new Date(`${DAY}T01:00:00Z`)}, ${new Date(`${DAY}T01:00:02Z`)}, 'disk full (seeded)')`.execute(db.db);
    const { page, errors } = await newPage();
    await signIn(page, ADMIN);
    await page.click('a[data-section="audit"]');
    await page.waitForSelector('#audit-rows tr');
    expect(await page.textContent('#audit-rows')).toContain('streamer.create');
    await page.click('a[data-section="jobs"]');
    await page.waitForSelector('#job-rows tr.failed');
    expect(await page.textContent('#job-rows tr.failed')).toContain('disk full (seeded)');

    await page.fill('#rerun-day', DAY);
    // A double click is one rerun: both submits carry the form's one Idempotency-Key.
    await page.dblclick('#rerun-form button[type="submit"]');
    await expect.poll(() => page.textContent('#rerun-status'), { timeout: 15_000 }).toContain(`Queued ${DAY}`);
    const reruns = await sql<{ key: string }>`
      SELECT after->>'idempotencyKey' AS key FROM audit_log WHERE action = 'summary.rerun' AND target_id = ${DAY}`.execute(db.db);
    expect(reruns.rows).toHaveLength(1);
    expect(reruns.rows[0]!.key).toMatch(/^[0-9a-f]{32}$/);
    await waitFor(
      async () => (await sql<{ status: string }>`SELECT status FROM job_runs WHERE period_key LIKE ${`%${DAY}%`} AND name <> 'retention'`.execute(db.db)).rows,
      (rows) => rows.some((r) => r.status === 'succeeded'),
      { what: 'the re-run ran', timeoutMs: 30_000 },
    );
    const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM daily_summaries WHERE day = ${DAY}`.execute(db.db);
    expect(stored.rows[0]!.n).toBe(1);
    expect(errors).toEqual([]);
  });
});
