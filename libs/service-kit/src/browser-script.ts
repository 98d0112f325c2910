import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * A service's browser script (the room page's, the console's) as one minified file. esbuild is a
 * build-time tool, imported on demand: the built service serves what its build wrote and never loads it.
 * `tools/build/bundle-browser.ts` calls this at build time, so the build and a run from source bundle alike.
 */
export async function bundleBrowserScript(source: string): Promise<string> {
  return (await bundleWithInputs(source)).text;
}

async function bundleWithInputs(source: string): Promise<{ text: string; inputs: string[] }> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [source],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { text: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs).map((file) => resolve(file)) };
}

/** The newest modification time among `files` (ms); a file that vanished counts as changed now. */
async function newest(files: readonly string[]): Promise<number> {
  const times = await Promise.all(files.map((file) => stat(file).then((s) => s.mtimeMs, () => Number.POSITIVE_INFINITY)));
  return Math.max(0, ...times);
}

/**
 * The text to serve for a browser script: `prebuilt` (what `nx build` wrote next to the built service)
 * when it exists, read once. Run from source (`nx serve`, tests) it is `source` bundled, and bundled again
 * when a file it was made of has changed since: `tsx watch` restarts the service only for the files the
 * service itself imports, and the browser script is not one of them. A failed load is retried.
 */
export function browserScript(options: { source: string; prebuilt: string }): () => Promise<string> {
  if (existsSync(options.prebuilt)) {
    let text: Promise<string> | undefined;
    return () =>
      (text ??= readFile(options.prebuilt, 'utf8').catch((error: unknown) => {
        text = undefined;
        throw error;
      }));
  }
  let current: Promise<{ text: string; inputs: string[]; madeAt: number }> | undefined;
  const make = () => {
    const madeAt = Date.now();
    const made = bundleWithInputs(options.source).then((b) => ({ ...b, madeAt }));
    current = made;
    made.catch(() => {
      if (current === made) current = undefined;
    });
    return made;
  };
  return async () => {
    const held = await (current ?? make());
    return (await newest(held.inputs)) > held.madeAt ? (await make()).text : held.text;
  };
}
