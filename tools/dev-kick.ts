/**
 * Kick for `npm run dev`: the fake Kick (libs/kick-api/testing, Kick's documented wire format) on a fixed
 * loopback port, so onboarding, the subscription jobs and the prober work on a machine with no Kick app.
 * dev-env.mjs points the services at it unless KICK_CLIENT_ID is set (then they use the real Kick and this
 * server idles). It serves the channel `npm run kick:curl` posts for (broadcaster 1001, slug `streamer`)
 * live, its viewers drifting each minute so the console's chart has a shape, and `quiet` offline.
 *
 *   tsx tools/dev-kick.ts        (run by `nx serve @onair/tools`, part of `npm run dev`)
 */
import { startFakeKick, type FakeKickChannel } from '@onair/kick-api/testing';
import { DEV_KICK } from './stack/dev-env.mjs';

const fake = await startFakeKick({ port: DEV_KICK.port, clientId: DEV_KICK.clientId, clientSecret: DEV_KICK.clientSecret });
const startedAt = new Date(Date.now() - 10 * 60_000).toISOString();
const streamer = (minute: number): FakeKickChannel => ({
  broadcasterUserId: 1001,
  slug: 'streamer',
  title: 'dev stream',
  category: { id: 1, name: 'Just Chatting' },
  isLive: true,
  viewerCount: Math.round(300 + 120 * Math.sin(minute / 20) + 30 * Math.sin(minute / 3)),
  startedAt,
});
const minuteNow = () => Math.floor(Date.now() / 60_000);
fake.setChannel(streamer(minuteNow()));
fake.setChannel({ broadcasterUserId: 1002, slug: 'quiet', title: 'offline', isLive: false });
const drift = setInterval(() => fake.setChannel(streamer(minuteNow())), 15_000);
console.log(`[dev-kick] fake Kick at ${fake.apiBase}: channels streamer (1001, live) and quiet (1002, offline)`);

const stop = () => {
  clearInterval(drift);
  void fake.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop).once('SIGINT', stop);
