import { describe, expect, it } from 'vitest';
import { freePortForTests } from './free-port';
import { spawnService } from './spawn-service';

/**
 * The operational contract every service's `main.ts` keeps, checked on the real process: it starts,
 * reports healthy, ready and its metrics, stops cleanly (exit 0) on SIGTERM, and refuses a bad variable
 * at start naming it.
 */
export function describeServiceProcess(
  service: string,
  options: { main: string; env: Record<string, string>; badVariable: [name: string, value: string] },
): void {
  describe(`${service} process`, () => {
    it('starts, is ready, serves metrics and stops with exit code 0 on SIGTERM', async () => {
      const port = await freePortForTests();
      const proc = await spawnService({ main: options.main, env: options.env, port });
      try {
        const ready = await waitReady(port);
        expect(ready.status).toBe('ready');
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toContain(`process_cpu_seconds_total{service="${service}"}`);
      } finally {
        const code = await proc.kill('SIGTERM');
        expect(code, proc.output()).toBe(0);
      }
      expect(proc.output()).toContain('"msg":"stopped"');
    });

    it(`exits 1 at start naming ${options.badVariable[0]} when it is malformed`, async () => {
      const port = await freePortForTests();
      const [name, value] = options.badVariable;
      const failure = await spawnService({ main: options.main, env: { ...options.env, [name]: value }, port, startTimeoutMs: 15_000 }).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(failure).toMatch(/exited with 1/);
      expect(failure).toContain(`"variable":"${name}"`);
    });
  });
}

async function waitReady(port: number): Promise<{ status: string }> {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await res.json()) as { status: string };
    if (res.ok || Date.now() > until) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
}
