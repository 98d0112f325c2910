import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The alert rules are evaluated by Prometheus' own tool: `promtool test rules` replays the series in
 * alerts.test.yml (including the probe deadman: quiet at 10 minutes without a probe, firing after).
 * promtool comes from Debian's `prometheus` package; `npm test` installs it when apt can.
 */
const DIR = fileURLToPath(new URL('../deploy/prometheus/', import.meta.url));
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

describe('Prometheus rules', () => {
  it('pass promtool check and its unit tests, deadman included', () => {
    expect(promtool, 'promtool is missing: apt-get install -y prometheus').toBeDefined();
    const check = execFileSync(promtool!, ['check', 'rules', 'alerts.yml'], { cwd: DIR, encoding: 'utf8' });
    expect(check).toMatch(/SUCCESS: \d+ rules found/);
    const tests = execFileSync(promtool!, ['test', 'rules', 'alerts.test.yml'], { cwd: DIR, encoding: 'utf8' });
    expect(tests).toContain('SUCCESS');
    expect(readFileSync(`${DIR}/alerts.test.yml`, 'utf8')).toContain('alertname: ProbesDeadman');
  });
});
