/**
 * The machine's HTTP ceiling for the benchmark: a fastify route that reads the body and answers 202 with
 * no work at all. Ingest's figures are read against it (on a small VM, socket syscalls bound them).
 */
import Fastify from 'fastify';

const app = Fastify();
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/webhooks/kick', async (_request, reply) => reply.code(202).send({ accepted: true, duplicate: false }));
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT']) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
