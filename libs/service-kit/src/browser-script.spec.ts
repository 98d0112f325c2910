import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserScript } from './browser-script';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'browser-script-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('browserScript', () => {
  it('serves the prebuilt bundle when the build wrote one', async () => {
    await writeFile(join(dir, 'prebuilt.js'), 'console.log("prebuilt")');
    const script = browserScript({ source: join(dir, 'missing.ts'), prebuilt: join(dir, 'prebuilt.js') });
    expect(await script()).toBe('console.log("prebuilt")');
  });

  it('from source, bundles once and again only when a file it was made of changes', async () => {
    const source = join(dir, 'page.ts');
    const part = join(dir, 'part.ts');
    await writeFile(part, 'export const word: string = "first";');
    await writeFile(source, 'import { word } from "./part"; (globalThis as any).word = word;');
    const script = browserScript({ source, prebuilt: join(dir, 'none.js') });
    const first = await script();
    expect(first).toContain('"first"');
    expect(await script()).toBe(first);
    // An imported file changes (its mtime set ahead, so the check cannot depend on the clock's resolution).
    await writeFile(part, 'export const word: string = "second";');
    const later = new Date(Date.now() + 5_000);
    await utimes(part, later, later);
    expect(await script()).toContain('"second"');
  });
});
