/**
 * `npm run bench:dedupe` — what remembering message ids costs the NATS server. The chat and events streams
 * keep every msgID for DEDUPE_WINDOW_S (660 s by default) so a replay inside a signature window is
 * stored once; nats-server holds those ids in memory. One run, two fresh private servers, the same
 * publishes (N chat-sized messages, each with a unique msgID, through the path ingest uses):
 *   - ours:     a stream whose duplicate window outlasts the run (every id still remembered at the end);
 *   - baseline: a stream whose window is 100 ms (ids forgotten almost at once).
 * The RSS difference per message is the cost of one remembered id; the projection multiplies it by
 * 10,000 messages/s × the window. Not a test: it asserts nothing and is never run by `npm test`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTopology, DEFAULT_STREAM_LIMITS, streamDefinitions, uuidV7 } from '@onair/contracts';
import { connectMessaging, ensureStreams, publishStored } from '@onair/messaging';
import { waitForPort } from '@onair/messaging/testing';
import { freePortForTests } from '@onair/service-kit/testing';

const MESSAGES = Number(process.env['BENCH_DEDUPE_MESSAGES'] ?? 300_000);
const IN_FLIGHT = 256;
const WINDOW_S = Number(process.env['BENCH_DEDUPE_WINDOW_S'] ?? 660);
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}

/** Runs one fresh nats-server, publishes MESSAGES with unique ids into a chat stream with `windowMs`. */
async function run(windowMs: number): Promise<{ rssBefore: number; rssAfter: number; seconds: number }> {
  const port = await freePortForTests();
  const dir = mkdtempSync(join(tmpdir(), 'onair-bench-dedupe-'));
  const binary = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => {
    try {
      readFileSync(p);
      return true;
    } catch {
      return false;
    }
  }) ?? 'nats-server';
  const server = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  try {
    await waitForPort(port, 10_000);
    const messaging = await connectMessaging({ url: `nats://127.0.0.1:${port}`, name: 'bench-dedupe', logger: pino({ level: 'silent' }) });
    const topology = createTopology('');
    await ensureStreams(messaging.jsm, streamDefinitions(topology, { ...DEFAULT_STREAM_LIMITS, dedupeWindowMs: windowMs, chatMaxBytes: 2 * 1024 ** 3 }));
    await sleep(1000);
    const rssBefore = rssBytes(server.pid!);
    const payload = JSON.stringify({
      platform: 'onair',
      messageId: `user-1:${uuidV7(Date.now())}`,
      channelId: 'room-1',
      senderId: 'user-1',
      senderUsername: 'Alice',
      content: 'a chat message of ordinary length, about eighty characters in all, no more',
      sentAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    });
    const subject = topology.chat.subject('onair', 'room-1');
    const t0 = performance.now();
    let next = 0;
    // Ids shaped like ingest's: `onair:<user>:<uuidv7>` (~50 bytes) for chat, `kick:<uuid>` for webhooks.
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < MESSAGES) {
          next++;
          await publishStored(messaging, subject, payload, `onair:user-1:${uuidV7(Date.now())}`, 10_000);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await messaging.drain();
    // Let the server settle (the short window's purge runs, the Go heap is collected).
    await sleep(5000);
    return { rssBefore, rssAfter: rssBytes(server.pid!), seconds };
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

log(`bench:dedupe — ${MESSAGES.toLocaleString('en-US')} messages with unique msgIDs per run; ${cpus().length} cores, ${cpus()[0]?.model ?? ''}`);
const baseline = await run(100);
const ours = await run(3_600_000);
const mb = (b: number) => (b / 1024 ** 2).toFixed(1);
const grow = (r: { rssBefore: number; rssAfter: number }) => r.rssAfter - r.rssBefore;
const perId = (grow(ours) - grow(baseline)) / MESSAGES;
log('');
log('| run | duplicate window | RSS before | RSS after | growth | publish rate |');
log('|---|---|---|---|---|---|');
log(`| baseline | 100 ms | ${mb(baseline.rssBefore)} MB | ${mb(baseline.rssAfter)} MB | ${mb(grow(baseline))} MB | ${Math.round(MESSAGES / baseline.seconds).toLocaleString('en-US')} msg/s |`);
log(`| ours (all ids remembered) | 1 h | ${mb(ours.rssBefore)} MB | ${mb(ours.rssAfter)} MB | ${mb(grow(ours))} MB | ${Math.round(MESSAGES / ours.seconds).toLocaleString('en-US')} msg/s |`);
log('');
log(`remembered id: ${Math.round(perId)} bytes of nats-server RSS each`);
const held = 10_000 * WINDOW_S;
log(`projection at 10,000 messages/s with a ${WINDOW_S} s window: ${held.toLocaleString('en-US')} ids held = ${mb(held * perId)} MB (${(perId * 10_000 / 1024 ** 2).toFixed(1)} MB per 10k messages/s per second of window)`);
