import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The workspace's module boundaries, checked from the source (Nx's ESLint rule has no release for this
 * Nx version). Each project's tags live in its package.json under `nx.tags`.
 *
 * - `type:app` imports libs only: an app never imports another app.
 * - `type:lib` imports libs only; a `scope:shared` lib imports only `scope:shared` libs.
 * - Libraries are entered through their door (`@onair/<lib>`) or their test door (`@onair/<lib>/testing`,
 *   from specs and testing helpers only): no deep imports.
 * - Relative imports stay inside their project. Only `type:tool` (benchmarks) may reach into apps.
 */
export const DEP_CONSTRAINTS: Record<string, string[]> = {
  'type:app': ['type:lib'],
  'type:lib': ['type:lib'],
  'type:e2e': ['type:lib'],
  'type:tool': ['type:lib', 'type:app'],
};

export interface Project {
  name: string;
  root: string;
  tags: string[];
}

export function readProjects(workspace: string): Project[] {
  const pkg = JSON.parse(readFileSync(join(workspace, 'package.json'), 'utf8')) as { workspaces: string[] };
  const roots = pkg.workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(workspace, pattern.slice(0, -2))).map((d) => join(pattern.slice(0, -2), d))
      : [pattern],
  );
  return roots
    .filter((root) => statSync(join(workspace, root, 'package.json'), { throwIfNoEntry: false }))
    .map((root) => {
      const json = JSON.parse(readFileSync(join(workspace, root, 'package.json'), 'utf8'));
      return { name: json.name as string, root, tags: (json.nx?.tags as string[]) ?? [] };
    });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(entry.name) ? [path] : [];
  });
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every boundary violation in the workspace, as readable lines; empty when all is well. */
export function findViolations(workspace: string): string[] {
  const projects = readProjects(workspace);
  const byName = new Map(projects.map((p) => [p.name, p]));
  const problems: string[] = [];
  for (const project of projects) {
    const type = project.tags.find((t) => t.startsWith('type:'));
    const scope = project.tags.find((t) => t.startsWith('scope:'));
    if (!type || !scope) problems.push(`${project.name}: needs a type: and a scope: tag`);
    const allowed = DEP_CONSTRAINTS[type ?? ''] ?? [];
    for (const file of sourceFiles(join(workspace, project.root))) {
      const text = readFileSync(file, 'utf8');
      const where = relative(workspace, file);
      const isTestCode = /\.spec\.ts$/.test(file) || /\/testing\//.test(file) || type === 'type:tool' || type === 'type:e2e';
      for (const match of text.matchAll(IMPORT)) {
        const spec = (match[1] ?? match[2])!;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          const inside = !relative(join(workspace, project.root), target).startsWith('..');
          const targetProject = projects.find((p) => !relative(join(workspace, p.root), target).startsWith('..'));
          if (!inside && !(type === 'type:tool' && targetProject && allowed.some((t) => targetProject.tags.includes(t)))) {
            problems.push(`${where}: relative import "${spec}" leaves ${project.name}`);
          }
          continue;
        }
        const m = spec.match(/^(@onair\/[^/]+)(\/.*)?$/);
        if (!m) continue;
        const target = byName.get(m[1]!);
        if (!target) {
          problems.push(`${where}: imports unknown project ${m[1]}`);
          continue;
        }
        if (m[2] && m[2] !== '/testing') problems.push(`${where}: deep import "${spec}" (use the lib's index.ts door)`);
        if (m[2] === '/testing' && !isTestCode) problems.push(`${where}: production code imports the test door "${spec}"`);
        if (!allowed.some((t) => target.tags.includes(t))) {
          problems.push(`${where}: ${type} may not import ${target.name} (${target.tags.join(', ')})`);
        }
        if (scope === 'scope:shared' && type === 'type:lib' && !target.tags.includes('scope:shared')) {
          problems.push(`${where}: shared lib imports non-shared ${target.name}`);
        }
      }
    }
  }
  return problems;
}
