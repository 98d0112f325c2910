import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The image installs dependencies from the workspace manifests it copies before the sources (so code changes
 * do not reinstall). A workspace package whose manifest is not copied is not linked in the image, and the
 * service that imports it fails at start: every one must be listed. What runs is the build (dist/, checked
 * by built-services.spec.ts) on production dependencies only, as a non-root user.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('deploy/Dockerfile', () => {
  it('copies the package.json of every workspace package before npm install', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    const install = dockerfile.indexOf('RUN npm install');
    const copied = new Set([...dockerfile.slice(0, install).matchAll(/^COPY (\S+\/package\.json) /gm)].map((m) => m[1]));
    const workspaces = ['apps', 'libs'].flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((name) => existsSync(join(ROOT, dir, name, 'package.json')))
        .map((name) => `${dir}/${name}/package.json`),
    );
    expect(workspaces.filter((w) => !copied.has(w))).toEqual([]);
  });

  it('runs the build on production dependencies only, as a non-root user, on a maintained Node', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const runtime = stages.at(-1)!;
    const copies = [...runtime.matchAll(/^COPY .*$/gm)].map((m) => m[0]);
    expect(copies).toEqual(['COPY --from=production-deps /app/node_modules ./node_modules', 'COPY --from=build /app/dist ./dist']);
    expect(runtime).toMatch(/^USER node$/m);
    expect(stages.find((s) => s.includes('AS production-deps'))).toMatch(/^RUN npm install --omit=dev /m);
    // Node 20 is past its end of life (2026-04-30).
    const base = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile);
    expect(Number(base?.[1])).toBeGreaterThanOrEqual(22);
  });
});
