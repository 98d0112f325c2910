import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePortForTests, waitFor } from '@onair/service-kit/testing';

/**
 * The stack launcher against its real components (nats-server, ClickHouse through chDB, Soketi), each test
 * in its own STACK_RUN_DIR on free ports: the dev stack (8123, 6001, its .stack/clickhouse-data) is never
 * touched. A launcher is `node tools/stack/stack.mjs up …` as a child process, so it can be SIGKILLed.
 */
const STACK_MJS = fileURLToPath(new URL('./stack.mjs', import.meta.url));
const COMPONENTS = ['nats', 'clickhouse', 'soketi'] as const;
type Component = (typeof COMPONENTS)[number];

interface Launcher {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const launchers: Launcher[] = [];
const runDirs: string[] = [];

/** Starts a launcher; resolves once it says "up in", rejects (with its output) if it exits first. */
async function launch(env: Record<string, string>, components: readonly string[] = COMPONENTS): Promise<Launcher> {
  const base = { ...process.env };
  delete base['SOKETI_ADAPTER_DRIVER']; // only the test that wants Soketi to fail sets it
  const child = spawn(process.execPath, [STACK_MJS, 'up', ...components], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const launcher = { child, output: () => output, exited };
  launchers.push(launcher);
  const up = waitFor(() => output, (o) => /up in [\d.]+ s/.test(o), { timeoutMs: 300_000, what: 'the stack to come up' });
  const code = await Promise.race([up.then(() => 'up' as const), exited]);
  if (code !== 'up') throw new Error(`launcher exited with ${code}:\n${output}`);
  return launcher;
}

async function stopLauncher(launcher: Launcher): Promise<number | null> {
  launcher.child.kill('SIGTERM');
  return launcher.exited;
}

/** A fresh run dir and free ports for one stack. */
async function stackEnv(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'onair-stack-spec-'));
  runDirs.push(dir);
  return {
    STACK_RUN_DIR: dir,
    NATS_URL: `nats://127.0.0.1:${await freePortForTests()}`,
    CLICKHOUSE_URL: `http://127.0.0.1:${await freePortForTests()}`,
    PUSHER_HOST: '127.0.0.1',
    PUSHER_PORT: String(await freePortForTests()),
    SOKETI_METRICS_SERVER_PORT: String(await freePortForTests()),
  };
}

const statFields = (pid: number): string[] | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
};
const alive = (pid: number) => {
  const fields = statFields(pid);
  return fields !== null && fields[0] !== 'Z';
};

/** Live processes of one component of one run dir, found by the marks the launcher sets in their environment. */
function processesOf(runDir: string, component: Component): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (environ.includes(`ONAIR_STACK_RUN_DIR=${runDir}`) && environ.includes(`ONAIR_STACK_COMPONENT=${component}`) && alive(Number(entry))) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

const pidFileOf = (runDir: string, component: Component) => join(runDir, 'pids', `${component}.pid`);
const recordedPid = (runDir: string, component: Component): number =>
  JSON.parse(readFileSync(pidFileOf(runDir, component), 'utf8')).pid;

async function httpText(url: string): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

const tcpAnswers = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Whether each component of `env`'s stack answers where `env` says. */
async function answers(env: Record<string, string>) {
  return {
    nats: await tcpAnswers(env['NATS_URL']!),
    clickhouse: (await httpText(new URL('/ping', env['CLICKHOUSE_URL']).toString()))?.body.trim() === 'Ok.',
    soketi: (await httpText(`http://127.0.0.1:${env['PUSHER_PORT']}/`))?.status === 200,
  };
}

afterEach(async () => {
  // A failed test must not leave its components behind: end whatever carries this spec's run dirs' marks.
  for (const l of launchers.splice(0)) if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
  for (const dir of runDirs) {
    for (const c of COMPONENTS) for (const pid of processesOf(dir, c)) process.kill(pid, 'SIGKILL');
  }
});

afterAll(() => {
  for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
});

// A first run on a fresh machine installs ClickHouse (178 MB) and Soketi into .stack/: minutes, not seconds.
describe('stack launcher', { timeout: 360_000 }, () => {
  it('adopts the components a SIGKILLed launcher left running, and its stop() ends them', async () => {
    const env = await stackEnv();
    const dir = env['STACK_RUN_DIR']!;
    const first = await launch(env);
    const pids = Object.fromEntries(COMPONENTS.map((c) => [c, recordedPid(dir, c)])) as Record<Component, number>;

    first.child.kill('SIGKILL');
    await first.exited;
    // What the issue is about: the detached components outlive their launcher.
    for (const c of COMPONENTS) expect(processesOf(dir, c), c).toEqual([pids[c]]);

    const second = await launch(env);
    for (const c of COMPONENTS) {
      expect(second.output()).toContain(`${c}: adopted pid ${pids[c]}`);
      expect(processesOf(dir, c), c).toEqual([pids[c]]);
    }
    expect(await answers(env)).toEqual({ nats: true, clickhouse: true, soketi: true });

    expect(await stopLauncher(second)).toBe(0);
    for (const c of COMPONENTS) {
      expect(processesOf(dir, c), c).toEqual([]);
      expect(existsSync(pidFileOf(dir, c)), `${c} pid file`).toBe(false);
    }
    expect(await answers(env)).toEqual({ nats: false, clickhouse: false, soketi: false });
  });

  it('ends what a SIGKILLed launcher left elsewhere or not answering, and starts one fresh on the same data dir', async () => {
    const env = await stackEnv();
    const dir = env['STACK_RUN_DIR']!;
    const first = await launch(env, ['clickhouse', 'soketi']);
    const oldClickhouse = recordedPid(dir, 'clickhouse');
    const oldSoketi = recordedPid(dir, 'soketi');
    first.child.kill('SIGKILL');
    await first.exited;
    process.kill(oldSoketi, 'SIGSTOP'); // alive, holding its port, answering nothing

    const moved = { ...env, CLICKHOUSE_URL: `http://127.0.0.1:${await freePortForTests()}` };
    const second = await launch(moved, ['clickhouse', 'soketi']);
    expect(second.output()).toContain(`clickhouse: ending pid ${oldClickhouse} left by a stack launcher that is gone (at 127.0.0.1:${new URL(env['CLICKHOUSE_URL']!).port}`);
    expect(second.output()).toContain(`soketi: ending pid ${oldSoketi} left by a stack launcher that is gone (not answering)`);
    for (const c of ['clickhouse', 'soketi'] as const) {
      const now = processesOf(dir, c);
      expect(now, c).toHaveLength(1);
      expect(now[0]).toBe(recordedPid(dir, c));
    }
    expect(alive(oldClickhouse) || alive(oldSoketi)).toBe(false);
    const up = await answers(moved);
    expect([up.clickhouse, up.soketi]).toEqual([true, true]);
    expect((await answers(env)).clickhouse).toBe(false); // the old port is free

    expect(await stopLauncher(second)).toBe(0);
    expect([...processesOf(dir, 'clickhouse'), ...processesOf(dir, 'soketi')]).toEqual([]);
  });

  it('leaves a live launcher\'s ClickHouse alone instead of starting a second one on its data dir', async () => {
    const env = await stackEnv();
    const dir = env['STACK_RUN_DIR']!;
    const first = await launch(env, ['clickhouse']);
    const pid = recordedPid(dir, 'clickhouse');

    const other = { ...env, CLICKHOUSE_URL: `http://127.0.0.1:${await freePortForTests()}` };
    await expect(launch(other, ['clickhouse'])).rejects.toThrow(/in use by the stack launcher pid \d+ .*STACK_RUN_DIR/s);
    expect(processesOf(dir, 'clickhouse')).toEqual([pid]);
    expect((await answers(env)).clickhouse).toBe(true);

    // Where the live one already answers, it is simply used (and not stopped by the second launcher).
    const same = await launch(env, ['clickhouse']);
    expect(same.output()).toContain('clickhouse: already running');
    expect(await stopLauncher(same)).toBe(0);
    expect(processesOf(dir, 'clickhouse')).toEqual([pid]);

    expect(await stopLauncher(first)).toBe(0);
    expect(processesOf(dir, 'clickhouse')).toEqual([]);
  });

  it('never kills a process that merely has a recorded pid', async () => {
    const env = await stackEnv();
    const dir = env['STACK_RUN_DIR']!;
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await waitFor(() => statFields(stranger.pid!), (f) => f !== null);
      const startTime = statFields(stranger.pid!)![19];
      // As if a killed launcher's Soketi had this pid (reused since): right pid, right start time, no marks.
      mkdirSync(join(dir, 'pids'), { recursive: true });
      writeFileSync(
        pidFileOf(dir, 'soketi'),
        JSON.stringify({ pid: stranger.pid, startTime, where: `127.0.0.1:${env['PUSHER_PORT']}`, owner: { pid: 1, startTime: '0' } }),
      );
      const launcher = await launch(env, ['soketi']);
      expect(alive(stranger.pid!)).toBe(true);
      expect(processesOf(dir, 'soketi')).toEqual([recordedPid(dir, 'soketi')]);
      expect(recordedPid(dir, 'soketi')).not.toBe(stranger.pid);
      expect(await stopLauncher(launcher)).toBe(0);
      expect(alive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('fails at once with the log tail when a component exits during start', async () => {
    const env = await stackEnv();
    const t0 = Date.now();
    // Soketi exits at start (code 7) on an adapter driver it does not know.
    const failed = launch({ ...env, SOKETI_ADAPTER_DRIVER: 'no-such-driver' }, ['soketi']);
    const error: Error = await failed.then(
      () => new Error('the launcher came up'),
      (e: Error) => e,
    );
    expect(Date.now() - t0).toBeLessThan(20_000); // the wait for an answer is 30 s
    expect(error.message).toMatch(/launcher exited with 1/);
    expect(error.message).toMatch(/soketi: exited \(code \d+\) before answer on GET http:\/\/127\.0\.0\.1:\d+\//);
    expect(error.message).toContain(`log: `);
    expect(error.message).toContain('Node.js v'); // a line from Soketi's own log
    expect(error.message).not.toContain("reading 'name'");
    expect(processesOf(env['STACK_RUN_DIR']!, 'soketi')).toEqual([]);
  });
});
