import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findViolations } from './boundaries';

const WORKSPACE = fileURLToPath(new URL('..', import.meta.url));
// Spelled in two parts so the checker, reading this file, does not take the fixtures for imports.
const line = (what: string, from: string) => `${'imp'}${'ort'} { ${what} } from '${from}';`;

describe('module boundaries', () => {
  it('hold across the workspace', () => {
    expect(findViolations(WORKSPACE)).toEqual([]);
  });

  it('catch an app importing an app, a deep import, a test door in production and a relative escape', () => {
    const ws = mkdtempSync(join(tmpdir(), 'onair-boundaries-'));
    const project = (root: string, name: string, tags: string[], files: Record<string, string>) => {
      mkdirSync(join(ws, root, 'src'), { recursive: true });
      writeFileSync(join(ws, root, 'package.json'), JSON.stringify({ name, nx: { tags } }));
      for (const [file, text] of Object.entries(files)) writeFileSync(join(ws, root, 'src', file), text);
    };
    writeFileSync(join(ws, 'package.json'), JSON.stringify({ workspaces: ['apps/*', 'libs/*'] }));
    project('apps/a', '@onair/a', ['type:app', 'scope:a'], {
      'main.ts': [
        line('x', '@onair/b'),
        line('y', '@onair/lib/src/y'),
        line('z', '@onair/lib/testing'),
        line('w', '../../../libs/lib/src/index'),
      ].join('\n'),
    });
    project('apps/b', '@onair/b', ['type:app', 'scope:b'], { 'main.ts': '' });
    project('libs/lib', '@onair/lib', ['type:lib', 'scope:shared'], { 'index.ts': line('a', '@onair/a') });
    expect(findViolations(ws)).toEqual([
      'apps/a/src/main.ts: type:app may not import @onair/b (type:app, scope:b)',
      'apps/a/src/main.ts: deep import "@onair/lib/src/y" (use the lib\'s index.ts door)',
      'apps/a/src/main.ts: production code imports the test door "@onair/lib/testing"',
      'apps/a/src/main.ts: relative import "../../../libs/lib/src/index" leaves @onair/a',
      'libs/lib/src/index.ts: type:lib may not import @onair/a (type:app, scope:a)',
      'libs/lib/src/index.ts: shared lib imports non-shared @onair/a',
    ]);
  });
});
