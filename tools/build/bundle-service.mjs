#!/usr/bin/env node
// `nx build <service>`: bundles one service entry (TypeScript) into a single ES module for plain `node`.
// Usage (paths relative to the working directory, the project's root under nx):
//   node ../../tools/build/bundle-service.mjs src/main.ts ../../dist/apps/ingest/main.js
// Workspace libs (@onair/*, whose package.json exports point at TypeScript source) are inlined; every
// other package stays an import, resolved from node_modules at run time. The build fails when a file
// imports a package its own workspace package does not list in `dependencies`: `npm install --omit=dev`
// (the image) would not install it, and the service would crash at start there and nowhere else.
import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: bundle-service.mjs <entry.ts> <outfile.js>');
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKSPACE_SCOPE = '@onair/';

/** Everything but relative paths and @onair/* stays external (node_modules at run time). */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith(WORKSPACE_SCOPE)) return undefined; // resolved through the workspace link: inlined
      return { path: args.path, external: true };
    });
  },
};

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Node 20 runs the tests here; the image runs a newer LTS.
  target: 'node20',
  // Error subclasses and loggers read constructor names; bundling would otherwise rename clashing ones.
  keepNames: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [externalPackages],
});

// The output is ESM whatever directory it lands in (the image has no root package.json).
writeFileSync(join(dirname(outfile), 'package.json'), '{ "type": "module" }\n');

const problems = undeclaredImports(result.metafile);
if (problems.length) {
  console.error(`${outfile}: imports of packages missing from the importing package's dependencies:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`built ${relative(ROOT, resolve(outfile))} (${Math.round(result.metafile.outputs[outfile.replaceAll(sep, '/')]?.bytes / 1024 || 0)} KiB)`);

/**
 * Static imports of external packages whose importing file's workspace package does not declare them in
 * `dependencies` (or optional/peer). Dynamic `import()`s are left alone: they run on demand (the gateway's
 * on-the-fly room page bundle, unused when the prebuilt one is there).
 */
function undeclaredImports(metafile) {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const manifests = new Map();
  const problems = new Set();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.kind === 'dynamic-import' || builtins.has(imported.path) || imported.path.startsWith('<')) continue;
      const name = packageName(imported.path);
      const manifest = owningManifest(resolve(file), manifests);
      const declared = { ...manifest.json.dependencies, ...manifest.json.optionalDependencies, ...manifest.json.peerDependencies };
      if (!(name in declared)) problems.add(`${file} imports ${name}: add it to ${relative(ROOT, manifest.path)} dependencies`);
    }
  }
  return [...problems];
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function owningManifest(file, cache) {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (cache.has(path)) return cache.get(path);
    try {
      const manifest = { path, json: JSON.parse(readFileSync(path, 'utf8')) };
      cache.set(path, manifest);
      return manifest;
    } catch (error) {
      if (error.code !== 'ENOENT' || dir === dirname(dir)) throw error;
    }
  }
}
