import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * A service's browser script (the room page's, the console's) as one minified file. esbuild is a
 * build-time tool, imported on demand: the built service serves what its build wrote and never loads it.
 * `tools/build/bundle-browser.ts` calls this at build time, so the build and a run from source bundle alike.
 */
export async function bundleBrowserScript(source: string): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [source],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/**
 * The text to serve for a browser script: `prebuilt` (what `nx build` wrote next to the built service)
 * when it exists, else `source` bundled on first call. Kept once loaded; a failed load is retried.
 */
export function browserScript(options: { source: string; prebuilt: string }): () => Promise<string> {
  const load = existsSync(options.prebuilt) ? () => readFile(options.prebuilt, 'utf8') : () => bundleBrowserScript(options.source);
  let text: Promise<string> | undefined;
  return () =>
    (text ??= load().catch((error: unknown) => {
      text = undefined;
      throw error;
    }));
}
