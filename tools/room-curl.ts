/**
 * `npm run -s room:curl -- <roomId> [content]` prints a curl command that posts first-party room chat to
 * the local ingest as user `dev` (a session JWT signed with the dev secret `npm run dev` uses), e.g.
 *   npm run -s room:curl -- r1 "hello room" | sh      # then watch http://127.0.0.1:8082/rooms/r1
 *   npm run -s room:curl -- r1 --live | sh            # LiveKit's room_started for r1, as its server signs it
 *   npm run -s room:curl -- r1 "!clip 45" | sh        # the chat bot clips it and answers in the room
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { signSessionToken } from '@onair/session';

const [roomId = 'r1', ...words] = process.argv.slice(2);
const live = words[0] === '--live';
const content = words.join(' ') || 'hello room';
const ingest = process.env['INGEST_URL'] || 'http://127.0.0.1:8081';
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

if (live) {
  // The dev LiveKit credentials `npm run dev` gives ingest (tools/stack/dev-env.mjs).
  const apiKey = process.env['LIVEKIT_API_KEY'] || 'devkey';
  const apiSecret = process.env['LIVEKIT_API_SECRET'] || 'dev-only-livekit-secret-0123456789abcdef';
  const nowS = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ event: 'room_started', id: `EV_${randomUUID()}`, createdAt: String(nowS), room: { sid: `RM_${roomId}`, name: roomId, numParticipants: 0 } });
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: apiKey, nbf: nowS - 60, exp: nowS + 300, sha256: createHash('sha256').update(body).digest('base64') })}`;
  const token = `${unsigned}.${createHmac('sha256', apiSecret).update(unsigned).digest('base64url')}`;
  console.log(
    [`curl -sS -i -X POST ${ingest}/webhooks/livekit`, `-H 'content-type: application/webhook+json'`, `-H ${quote(`authorization: ${token}`)}`, `--data-binary ${quote(body)}`].join(
      ' \\\n  ',
    ),
  );
} else {
  const secret = process.env['SESSION_JWT_SECRET'] || 'dev-only-session-secret-0123456789abcdef';
  const token = signSessionToken(
    { id: 'dev', name: 'dev' },
    { secret, audience: process.env['SESSION_JWT_AUDIENCE'] || 'onair', issuer: process.env['SESSION_JWT_ISSUER'] || 'onair-auth' },
  );
  console.log(
    [
      `curl -sS -i -X POST ${ingest}/v1/rooms/${encodeURIComponent(roomId)}/messages`,
      `-H 'content-type: application/json'`,
      `-H ${quote(`authorization: Bearer ${token}`)}`,
      `--data-raw ${quote(JSON.stringify({ content }))}`,
    ].join(' \\\n  '),
  );
}
