/**
 * `npm run -s kick:curl -- [content]` prints a curl command that posts a Kick `chat.message.sent`
 * webhook to the local ingest, signed with the dev key pair `npm run dev` made (.stack/kick-dev), e.g.
 *   npm run -s kick:curl -- "hello from curl" | sh
 */
import { randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const content = process.argv.slice(2).join(' ') || 'hello from curl';
const ingest = process.env['INGEST_URL'] || 'http://127.0.0.1:8081';
const privateKey = readFileSync(new URL('../.stack/kick-dev/private.pem', import.meta.url), 'utf8');

const id = randomUUID();
const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const body = JSON.stringify({
  message_id: id,
  replies_to: null,
  broadcaster: { is_anonymous: false, user_id: 1001, username: 'streamer', is_verified: true, profile_picture: null, channel_slug: 'streamer', identity: null },
  sender: { is_anonymous: false, user_id: 2002, username: 'viewer', is_verified: false, profile_picture: null, channel_slug: 'viewer', identity: null },
  content,
  emotes: [],
  created_at: timestamp,
});
const signature = sign('sha256', Buffer.from(`${id}.${timestamp}.${body}`), privateKey).toString('base64');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
console.log(
  [
    `curl -sS -i -X POST ${ingest}/webhooks/kick`,
    `-H 'content-type: application/json'`,
    `-H ${quote(`kick-event-message-id: ${id}`)}`,
    `-H ${quote(`kick-event-message-timestamp: ${timestamp}`)}`,
    `-H ${quote(`kick-event-signature: ${signature}`)}`,
    `-H 'kick-event-type: chat.message.sent'`,
    `-H 'kick-event-version: 1'`,
    `--data-binary ${quote(body)}`,
  ].join(' \\\n  '),
);
