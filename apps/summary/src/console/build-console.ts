/**
 * Part of `nx build summary`: writes the console's browser bundle to the path given, next to the built
 * service, which then serves it as it is and needs no esbuild at run time.
 *   tsx src/console/build-console.ts ../../dist/apps/summary/console.js
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleConsoleScript } from './routes';

const outfile = process.argv[2];
if (!outfile) {
  console.error('usage: build-console.ts <outfile.js>');
  process.exit(2);
}
const script = await bundleConsoleScript();
await mkdir(dirname(outfile), { recursive: true });
await writeFile(outfile, script);
console.log(`built ${outfile} (${Math.round(script.length / 1024)} KiB)`);
