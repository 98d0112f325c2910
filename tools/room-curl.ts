/**
 * `npm run -s room:curl -- <roomId> [content]` prints a curl command that posts first-party room chat to
 * the local ingest as user `dev` (a session JWT signed with the dev secret `npm run dev` uses), e.g.
 *   npm run -s room:curl -- r1 "hello room" | sh      # then watch http://127.0.0.1:8082/rooms/r1
 */
import { signSessionToken } from '@onair/session';

const [roomId = 'r1', ...words] = process.argv.slice(2);
const content = words.join(' ') || 'hello room';
const ingest = process.env['INGEST_URL'] || 'http://127.0.0.1:8081';
const secret = process.env['SESSION_JWT_SECRET'] || 'dev-only-session-secret-0123456789abcdef';
const token = signSessionToken(
  { id: 'dev', name: 'dev' },
  { secret, audience: process.env['SESSION_JWT_AUDIENCE'] || 'onair', issuer: process.env['SESSION_JWT_ISSUER'] || 'onair-auth' },
);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
console.log(
  [
    `curl -sS -i -X POST ${ingest}/v1/rooms/${encodeURIComponent(roomId)}/messages`,
    `-H 'content-type: application/json'`,
    `-H ${quote(`authorization: Bearer ${token}`)}`,
    `--data-raw ${quote(JSON.stringify({ content }))}`,
  ].join(' \\\n  '),
);
