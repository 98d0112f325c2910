/**
 * Part of `nx build realtime-gateway`: writes the room page's browser bundle to the path given, next to the
 * built service, which then serves it as it is and needs no esbuild at run time.
 *   tsx src/page/build-room-page.ts ../../dist/apps/realtime-gateway/room-page.js
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleRoomPageScript } from './page-routes';

const outfile = process.argv[2];
if (!outfile) {
  console.error('usage: build-room-page.ts <outfile.js>');
  process.exit(2);
}
const script = await bundleRoomPageScript();
await mkdir(dirname(outfile), { recursive: true });
await writeFile(outfile, script);
console.log(`built ${outfile} (${Math.round(script.length / 1024)} KiB)`);
