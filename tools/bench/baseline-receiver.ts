/**
 * The receiver onair replaces, for the benchmark's baseline: verify the Kick signature, then one
 * synchronous INSERT per webhook on a pooled connection before answering. Run as its own process.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { createPublicKey, verify } from 'node:crypto';

const port = Number(process.env['PORT']);
const pool = new pg.Pool({ connectionString: process.env['DATABASE_URL'], max: 16 });
const key = createPublicKey(process.env['KICK_PUBLIC_KEY']!);
const app = Fastify();
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.post('/webhooks/kick', async (request, reply) => {
  const raw = request.body as Buffer;
  const id = request.headers['kick-event-message-id'] as string;
  const ts = request.headers['kick-event-message-timestamp'] as string;
  const sig = Buffer.from(request.headers['kick-event-signature'] as string, 'base64');
  if (!verify('sha256', Buffer.concat([Buffer.from(`${id}.${ts}.`), raw]), key, sig)) return reply.code(401).send();
  const m = JSON.parse(raw.toString());
  await pool.query(
    `INSERT INTO chat_messages (platform, message_id, channel_id, sender_id, sender_username, content, sent_at, received_at)
     VALUES ('kick', $1, $2, $3, $4, $5, $6, now()) ON CONFLICT DO NOTHING`,
    [m.message_id, String(m.broadcaster.user_id), String(m.sender.user_id), m.sender.username, m.content, m.created_at],
  );
  return reply.code(202).send({ accepted: true });
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => app.close().then(() => pool.end()).then(() => process.exit(0)));
