#!/usr/bin/env node
// `npm test`: every project's test target, one project at a time (they share one stack, and
// tests that reset tables or streams must not race each other). Extra arguments go to nx,
// e.g. `npm test -- --projects=ingest`.
import { defaultLog, ensureAptTool, runWithStack, StackError } from './stack.mjs';

// The alert rules' unit tests run on Prometheus' own promtool (Debian package `prometheus`); the room
// page's e2e test drives Debian's Chromium.
try {
  await ensureAptTool('promtool', 'prometheus');
  await ensureAptTool('chromium', 'chromium');
  await ensureAptTool('faketime', 'faketime');
} catch (err) {
  defaultLog(err instanceof StackError ? err.message : String(err));
  process.exit(1);
}

// JetStream reserves each file stream's byte cap against its storage: the test files' own streams are small,
// and so are those the service processes they spawn ensure (production caps would reserve ~12 GB per
// namespace, and a small disk refuses the next stream with "insufficient storage resources").
process.env.CHAT_MAX_BYTES ??= String(256 * 1024 ** 2);
process.env.EVENTS_MAX_BYTES ??= String(64 * 1024 ** 2);
process.env.PROBES_MAX_BYTES ??= String(64 * 1024 ** 2);

await runWithStack([['nx', 'run-many', '-t', 'test', '--parallel=1', '--outputStyle=stream', ...process.argv.slice(2)]]);
