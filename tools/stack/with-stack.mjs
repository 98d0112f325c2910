#!/usr/bin/env node
// Runs one command against the dev/test stack:
//   node tools/stack/with-stack.mjs -- <command> [args…]
// Installs the project's packages if node_modules is missing, brings the stack up (see stack.mjs),
// runs the command with the stack's env and node_modules/.bin on PATH, stops what it started and
// exits with the command's exit code.
import { runWithStack } from './stack.mjs';

const argv = process.argv.slice(2);
const command = argv[0] === '--' ? argv.slice(1) : argv;
if (command.length === 0) {
  console.error('usage: node tools/stack/with-stack.mjs -- <command> [args…]');
  process.exit(2);
}
await runWithStack([command]);
