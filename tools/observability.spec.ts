import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopology, DEFAULT_STREAM_LIMITS, streamDefinitions } from '@onair/contracts';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

/**
 * The alert rules and the Grafana dashboards stay true to the code: every PromQL expression parses (rules by
 * `promtool check rules`; dashboard targets by the same, as recording rules of a temporary file) and every
 * metric it reads exists: defined in apps/ or libs/ (`new Counter|Gauge|Histogram|Summary({ name: '…' })`),
 * one of prom-client's default metrics, a recording rule of alerts.yml, or listed with its exporter in
 * deploy/prometheus/external-metrics.yml. A renamed metric or a typo fails here instead of leaving an alert
 * that can never fire or an empty panel.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROMETHEUS = join(ROOT, 'deploy/prometheus');
const DASHBOARDS = join(ROOT, 'deploy/grafana/dashboards');
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
}
interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string; refId?: string }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: Array<{ name: string; type: string; query?: string | { query?: string } }> };
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'atan2']);

/** Metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and grouping clauses that are not function calls or keywords. */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/#.*$/gm, '')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w:.$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    if (!PROMQL_KEYWORDS.has(match[1]!.toLowerCase())) names.add(match[1]!);
  }
  return [...names];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !/[/\\](node_modules|testing)[/\\]/.test(file));
}

const SERIES_SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };
const seriesOf = (name: string, type: string) => (SERIES_SUFFIXES[type] ?? ['']).map((suffix) => name + suffix);

/** Series names the services export: their own metrics and prom-client's defaults (collectDefaultMetrics in service-kit). */
async function codeSeries(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of [...sourceFiles(join(ROOT, 'apps')), ...sourceFiles(join(ROOT, 'libs'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{[^}]*?name:\s*'([a-zA-Z_:][\w:]*)'/g)) {
      for (const series of seriesOf(m[2]!, m[1]!.toLowerCase())) names.add(series);
    }
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const metric of await registry.getMetricsAsJSON()) for (const series of seriesOf(metric.name, String(metric.type))) names.add(series);
  return names;
}

const rules = (): Rule[] =>
  (parse(readFileSync(join(PROMETHEUS, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

const externalMetrics = (): Record<string, string[]> => parse(readFileSync(join(PROMETHEUS, 'external-metrics.yml'), 'utf8'));

const dashboards = (): Array<{ file: string; dashboard: Dashboard }> =>
  readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

/** Every target of a dashboard, with Grafana's variables replaced by values PromQL accepts. */
function dashboardExpressions(dashboard: Dashboard): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const panel of allPanels(dashboard.panels)) {
    for (const target of panel.targets ?? []) {
      if (!target.expr) continue;
      const expr = target.expr.replace(/\$(?:__rate_interval|__interval|__range)\b|\$\{__(?:rate_interval|interval|range)\}/g, '5m').replace(/\$\{?\w+\}?/g, 'x');
      out.push({ where: `${dashboard.uid} "${panel.title}" ${target.refId}`, expr });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const selector = variable.type === 'query' ? query?.match(/^label_values\((.+),\s*\w+\)$/)?.[1] : undefined;
    if (selector) out.push({ where: `${dashboard.uid} variable ${variable.name}`, expr: selector });
  }
  return out;
}

describe('alert rules and dashboards', () => {
  it('finds metric names in PromQL, and only those', () => {
    expect(
      metricNamesIn(
        'sum by (job) (increase(jobs_failed_total{service="summary", job=~"a|b"}[1h])) > 0 or absent(up{job="x"})' +
          ' unless on () onair:cap offset 1h and histogram_quantile(0.99, rate(x_bucket[5m:1m])) > 26 * 3600 + 1e3',
      ),
    ).toEqual(['jobs_failed_total', 'up', 'onair:cap', 'x_bucket']);
  });

  it('finds the metrics the code defines (sanity check of the collector)', async () => {
    const series = await codeSeries();
    for (const name of ['http_request_duration_seconds_bucket', 'consumer_pending_messages', 'probe_due_channels', 'job_last_success_timestamp_seconds', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(series, name).toContain(name);
    }
  });

  it('have every expression parse: the rules and every dashboard target (promtool check rules)', () => {
    expect(promtool, 'promtool is missing: apt-get install -y prometheus').toBeDefined();
    expect(execFileSync(promtool!, ['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS, encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);

    const targets = dashboards().flatMap(({ dashboard }) => dashboardExpressions(dashboard));
    expect(targets.length).toBeGreaterThan(50);
    const dir = mkdtempSync(join(tmpdir(), 'onair-dashboards-'));
    try {
      const file = join(dir, 'dashboards.rules.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules: targets.map((t, i) => ({ record: `dashboard:target:${i}`, expr: t.expr })) }] }));
      let output: string;
      try {
        output = execFileSync(promtool!, ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        const { stdout, stderr } = error as { stdout: string; stderr: string };
        const where = [...`${stdout}${stderr}`.matchAll(/(\d+):(\d+)|group 0, rule (\d+)/g)].map((m) => m[0]);
        throw new Error(`a dashboard target does not parse (${where.join(', ')}):\n${stdout}${stderr}\n${targets.map((t, i) => `${i}: ${t.where}: ${t.expr}`).join('\n')}`);
      }
      expect(output).toContain(`SUCCESS: ${targets.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('read only metrics that exist: in the code, prom-client defaults, recording rules or the external allow-list', async () => {
    const known = await codeSeries();
    const recorded = rules().flatMap((r) => (r.record ? [r.record] : []));
    const external = Object.values(externalMetrics()).flat();
    for (const name of [...recorded, ...external]) known.add(name);

    const used = [
      ...rules().map((r) => ({ where: `alerts.yml ${r.alert ?? r.record}`, expr: r.expr })),
      ...dashboards().flatMap(({ file, dashboard }) => dashboardExpressions(dashboard).map((t) => ({ ...t, where: `${file} ${t.where}` }))),
    ];
    const unknown = used.flatMap(({ where, expr }) => metricNamesIn(expr).filter((name) => !known.has(name)).map((name) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
    // The allow-list holds only what is used: an exporter's metric nobody reads is noise.
    const usedNames = new Set(used.flatMap(({ expr }) => metricNamesIn(expr)));
    expect(external.filter((name) => !usedNames.has(name))).toEqual([]);
  });

  it('list Soketi metrics that Soketi makes (when the stack has installed it)', () => {
    const driver = join(ROOT, '.stack/soketi/node_modules/@soketi/soketi/dist/metrics/prometheus-metrics-driver.js');
    if (!existsSync(driver)) return;
    const made = [...readFileSync(driver, 'utf8').matchAll(/name: `\$\{prefix\}(\w+)`/g)].map((m) => `soketi_${m[1]}`);
    expect(made.length).toBeGreaterThan(5);
    expect(externalMetrics().soketi!.filter((name) => !made.includes(name))).toEqual([]);
  });

  it('keep the JetStream limits of the storage alert equal to the streams\' max_bytes in libs/contracts', () => {
    const limits = Object.fromEntries(
      rules()
        .filter((r) => r.record === 'onair:jetstream_stream_max_bytes')
        .map((r) => [r.labels!.stream_name, Number(/^vector\((\d+)\)$/.exec(r.expr.trim())![1])]),
    );
    const streams = Object.fromEntries(streamDefinitions(createTopology(), DEFAULT_STREAM_LIMITS).map((s) => [s.name, s.maxBytes]));
    expect(limits).toEqual(streams);
  });

  it('give every dashboard a unique uid, the onair tag and targets on every graph', () => {
    const all = dashboards();
    expect(all.map((d) => d.file).sort()).toEqual(['chat-bot.json', 'chat-pipeline.json', 'fanout.json', 'jobs.json', 'probes.json', 'service-red.json']);
    expect(new Set(all.map((d) => d.dashboard.uid)).size).toBe(all.length);
    for (const { file, dashboard } of all) {
      for (const panel of allPanels(dashboard.panels).filter((p) => p.type !== 'row')) {
        expect(panel.targets?.length ?? 0, `${file} "${panel.title}"`).toBeGreaterThan(0);
      }
    }
    const provider = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/onair.yaml'), 'utf8'));
    expect(provider.providers[0].type).toBe('file');
  });
});
