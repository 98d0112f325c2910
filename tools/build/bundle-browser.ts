#!/usr/bin/env tsx
// Part of `nx build <service>` for services that serve a browser script: bundles it (service-kit's
// bundleBrowserScript, the same settings a run from source uses) into the file the built service serves.
// Usage (paths relative to the project's root, where nx runs the build):
//   tsx ../../tools/build/bundle-browser.ts src/page/room-page.browser.ts ../../dist/apps/realtime-gateway/room-page.js
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { bundleBrowserScript } from '@onair/service-kit';

const [source, outfile] = process.argv.slice(2);
if (!source || !outfile) {
  console.error('usage: bundle-browser.ts <source.ts> <outfile.js>');
  process.exit(2);
}
const script = await bundleBrowserScript(resolve(source));
await mkdir(dirname(outfile), { recursive: true });
await writeFile(outfile, script);
console.log(`built ${outfile} (${Math.round(script.length / 1024)} KiB)`);
