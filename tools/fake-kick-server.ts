/**
 * The local Kick-speaking server (`startFakeKick`) in a process of its own, for benchmarks that must not
 * share an event loop with the code they measure (the real Kick is another machine):
 *
 *   tsx tools/fake-kick-server.ts <channels> [offlineEvery=20] [firstId=100000]
 *
 * serves channels 1..<channels> as broadcaster user ids `firstId + i`, every `offlineEvery`-th one
 * offline and the rest live, prints one JSON line `{ apiBase, oauthBase, clientId, clientSecret }` once
 * it listens on loopback, and closes on SIGTERM or SIGINT.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFakeKick, type FakeKick } from '@onair/kick-api/testing';

/** The channel every tool seeds for index `i` (1-based), so the database and the fake agree. */
export function fakeChannel(i: number, options: { firstId: number; offlineEvery: number; startedAt: string }) {
  return {
    broadcasterUserId: options.firstId + i,
    slug: `slug${i}`,
    isLive: i % options.offlineEvery !== 0,
    viewerCount: 100 + (i % 5_000),
    startedAt: options.startedAt,
    title: `stream ${i}`,
    category: { id: 1, name: 'Just Chatting' },
    activeSubscribersCount: i % 97,
  };
}

export async function startSeededFakeKick(options: { channels: number; firstId: number; offlineEvery: number; startedAt: string }): Promise<FakeKick> {
  const fake = await startFakeKick();
  for (let i = 1; i <= options.channels; i++) fake.setChannel(fakeChannel(i, options));
  return fake;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const [channels = '100', offlineEvery = '20', firstId = '100000'] = process.argv.slice(2);
  const fake = await startSeededFakeKick({
    channels: Number(channels),
    offlineEvery: Number(offlineEvery),
    firstId: Number(firstId),
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
  });
  process.stdout.write(`${JSON.stringify({ apiBase: fake.apiBase, oauthBase: fake.oauthBase, clientId: fake.clientId, clientSecret: fake.clientSecret })}\n`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGTERM', stop).once('SIGINT', stop);
}
