/**
 * `npm run -s kick:curl -- [content]` prints a curl command that posts a Kick `chat.message.sent`
 * webhook to the local ingest, signed with the dev key pair `npm run dev` made (.stack/kick-dev), e.g.
 *   npm run -s kick:curl -- "hello from curl" | sh
 *   npm run -s kick:curl -- --live 10 | sh      # livestream.status.updated: channel 1001 live since 10 min ago
 *   npm run -s kick:curl -- "!clip 45" | sh     # then the chat bot makes a clip ~10 min into that stream
 * `--as <user id>` sends the chat as another viewer (the bot's cooldown is per viewer).
 */
import { randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [value] = args.splice(i, 2).slice(1);
  return value ?? '';
};
const liveMinutes = flag('--live');
const sender = Number(flag('--as') ?? 2002);
const content = args.join(' ') || 'hello from curl';
const ingest = process.env['INGEST_URL'] || 'http://127.0.0.1:8081';
const privateKey = readFileSync(new URL('../.stack/kick-dev/private.pem', import.meta.url), 'utf8');

const id = randomUUID();
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const timestamp = iso(now);
const broadcaster = { is_anonymous: false, user_id: 1001, username: 'streamer', is_verified: true, profile_picture: null, channel_slug: 'streamer', identity: null };
const [type, body] =
  liveMinutes !== undefined
    ? [
        'livestream.status.updated',
        JSON.stringify({ broadcaster, is_live: true, title: 'dev stream', started_at: iso(now - Number(liveMinutes || 10) * 60_000), ended_at: null }),
      ]
    : [
        'chat.message.sent',
        JSON.stringify({
          message_id: id,
          replies_to: null,
          broadcaster,
          sender: { is_anonymous: false, user_id: sender, username: `viewer${sender}`, is_verified: false, profile_picture: null, channel_slug: `viewer${sender}`, identity: null },
          content,
          emotes: [],
          created_at: timestamp,
        }),
      ];
const signature = sign('sha256', Buffer.from(`${id}.${timestamp}.${body}`), privateKey).toString('base64');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
console.log(
  [
    `curl -sS -i -X POST ${ingest}/webhooks/kick`,
    `-H 'content-type: application/json'`,
    `-H ${quote(`kick-event-message-id: ${id}`)}`,
    `-H ${quote(`kick-event-message-timestamp: ${timestamp}`)}`,
    `-H ${quote(`kick-event-signature: ${signature}`)}`,
    `-H ${quote(`kick-event-type: ${type}`)}`,
    `-H 'kick-event-version: 1'`,
    `--data-binary ${quote(body)}`,
  ].join(' \\\n  '),
);
