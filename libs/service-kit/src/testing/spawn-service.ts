import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface SpawnedService {
  readonly child: ChildProcess;
  /** Output so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs a service's entry as its own process, so a test can SIGKILL it mid-work: `main.ts` through tsx, a
 * built `main.js` (dist/apps/<service>/main.js, what the image runs) with plain node. Resolves once
 * `GET /healthz` on `port` answers.
 */
export async function spawnService(options: {
  main: string;
  env: Record<string, string>;
  port: number;
  startTimeoutMs?: number;
  /**
   * Runs the process with its wall clock set to `at` (UTC, `YYYY-MM-DD hh:mm:ss`), ticking on from there
   * `rate` times as fast (default 1), with Debian's libfaketime. Timers keep real time (the monotonic
   * clock is left alone). Postgres, NATS and ClickHouse keep the real clock: only what the process
   * decides from its own clock can be tested this way.
   */
  fakeTime?: { at: string; rate?: number };
}): Promise<SpawnedService> {
  const loader = options.main.endsWith('.ts') ? ['--import', createRequire(import.meta.url).resolve('tsx')] : [];
  const fake = options.fakeTime;
  const child = spawn(process.execPath, [...loader, options.main], {
    env: {
      ...process.env,
      ...options.env,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      // libfaketime preloaded into node itself, not through the `faketime` wrapper: signals then reach
      // the service and its exit code is its own. `at` is read in the local time zone, so UTC.
      ...(fake
        ? { LD_PRELOAD: libfaketime(), FAKETIME: `@${fake.at}${fake.rate ? ` x${fake.rate}` : ''}`, FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A spec whose setup fails after this start (another service refusing to start, say) never gets to kill
  // it: the service would outlive the test run. It dies with the test process instead.
  const orphanGuard = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  void exited.then(() => process.off('exit', orphanGuard));

  const until = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode} during start:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${options.port}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`service did not answer /healthz in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    child,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Debian's libfaketime (package `faketime`, which `npm test` installs). */
function libfaketime(): string {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const path = `/usr/lib/${arch}-linux-gnu/faketime/libfaketime.so.1`;
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install -y faketime (npm test installs it)`);
  return path;
}
