#!/usr/bin/env node
// Dev/test stack launcher: NATS, PostgreSQL, ClickHouse (chDB) and Soketi on 127.0.0.1.
//
// Plain Node built-ins only: it runs before `npm install` (with-stack.mjs installs the project's
// packages itself). Whatever is already reachable is used as is and never stopped; what is missing
// is installed once (into .stack/ or with apt-get) and started as a child that stop() ends again.
// A child's pid is kept in <run dir>/pids/<name>.pid while it runs, so a launcher killed with SIGKILL
// (whose detached children live on, holding ports and ClickHouse's data dir) is cleaned up after by
// the next one: it adopts what still answers where wanted and ends the rest.
//
//   node tools/stack/stack.mjs up [nats|postgres|clickhouse|soketi ...]   bring up, print env, wait for Ctrl-C
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
const STACK = path.join(ROOT, '.stack');
// Where a running stack keeps its state: logs, pid files, ClickHouse's data and NATS' store (installs stay
// in .stack/). Two stacks at once (other ports) need two of these: one ClickHouse per data dir.
const RUN = path.resolve(process.env.STACK_RUN_DIR || STACK);
const LOGS = path.join(RUN, 'logs');
const PIDS = path.join(RUN, 'pids');
const NATS_STORE = path.join(RUN, 'nats');
const CLICKHOUSE_DATA = path.join(RUN, 'clickhouse-data');
const rel = (p) => path.relative(process.cwd(), p) || '.';

export const COMPONENTS = ['nats', 'postgres', 'clickhouse', 'soketi'];

const DEFAULTS = {
  NATS_URL: 'nats://127.0.0.1:4222',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/onair',
  CLICKHOUSE_URL: 'http://127.0.0.1:8123',
  PUSHER_APP_ID: 'onair',
  PUSHER_APP_KEY: 'onair-key',
  PUSHER_APP_SECRET: 'onair-secret',
  PUSHER_HOST: '127.0.0.1',
  PUSHER_PORT: '6001',
};

const CHDB_VERSION = '26.7.3-stable.1';
// clickhouse-local runs its --query and exits; the endless second statement keeps the HTTP
// listener of the first one open until SIGTERM.
const CH_SERVE_QUERY =
  'SYSTEM START LISTEN HTTP; SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size=1 FORMAT Null';

export const defaultLog = (msg) => console.error(`[stack] ${msg}`);

export class StackError extends Error {}

/** The services' environment: process.env wins over the defaults (CLICKHOUSE_URL='' disables ClickHouse). */
export function stackEnv(env = process.env) {
  return Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, env[k] ?? DEFAULTS[k]]));
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** host/port of a service URL; NATS_URL may list several servers, the first one is ours. */
function hostPort(url, defaultPort) {
  const u = new URL(url.split(',')[0].trim());
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaultPort) };
}

const isLocal = (host) => ['127.0.0.1', 'localhost', '::1'].includes(host);

function tcpReachable({ host, port }, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

const clickhousePing = async (url) => (await httpGet(new URL('/ping', url)))?.body.trim() === 'Ok.';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function findExecutable(name, extraDirs = []) {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(path.delimiter)];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

function tail(file, lines = 15) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

function failure(name, reason, logFile) {
  return new StackError(`${name}: ${reason}\n  log: ${rel(logFile)}\n${tail(logFile)}`);
}

// Under `npm run`, npm hands its settings down as npm_config_* variables; the ones that say where
// the project is would make a nested `npm install` aim at the root project. Registry, cache and
// the like stay.
function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  const projectVars = /^npm_(package_|lifecycle_|config_(local_prefix|prefix|global|workspaces?|include_workspace_root)$)/i;
  for (const k of Object.keys(env)) if (projectVars.test(k)) delete env[k];
  return env;
}

/** Runs a one-off command (install, compile) to completion, output into a log file. */
function runLogged(name, cmd, args, opts = {}) {
  fs.mkdirSync(LOGS, { recursive: true });
  const logFile = path.join(LOGS, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n$ ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: cleanEnv(opts.env), cwd: opts.cwd });
    child.on('error', (err) => reject(failure(name, `cannot run ${cmd}: ${err.message}`, logFile)));
    child.on('exit', (code, signal) => {
      fs.closeSync(fd);
      if (code === 0) resolve();
      else reject(failure(name, `\`${cmd} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})`, logFile));
    });
  });
}

/** [cmd, args] run as root: directly when we are root (the project's machines), else via sudo. */
const asRoot = (cmd, args) => (process.getuid?.() === 0 ? [cmd, args] : ['sudo', ['-n', cmd, ...args]]);

// dpkg holds a lock: apt-get runs must not overlap even when components start in parallel.
let aptQueue = Promise.resolve();
let aptUpdated = false;
function aptInstall(log, ...packages) {
  const apt = (...args) =>
    runLogged('install-apt', ...asRoot('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]));
  const job = aptQueue.then(async () => {
    log(`installing ${packages.join(', ')} with apt-get (one time)…`);
    if (!aptUpdated) await apt('update');
    aptUpdated = true;
    await apt('install', '-y', '--no-install-recommends', ...packages);
  });
  aptQueue = job.catch(() => {});
  return job;
}

/** Installs a Debian package when its binary is missing (tools the tests use, e.g. promtool). */
export async function ensureAptTool(binary, pkg, log = defaultLog) {
  if (findExecutable(binary)) return;
  await aptInstall(log, pkg);
  if (!findExecutable(binary)) throw new StackError(`${pkg} was installed but ${binary} is still missing`);
}

/**
 * Installs a committed package.json (+ package-lock.json) from tools/stack/<name>/ into .stack/<dir>/.
 * A stamp of the committed files makes later runs skip npm entirely, and reinstall when they change.
 */
async function npmInstallOnce(log, name, dir, what) {
  const srcDir = path.join(HERE, name);
  const files = ['package.json', 'package-lock.json'].filter((f) => fs.existsSync(path.join(srcDir, f)));
  const stamp = createHash('sha256');
  for (const f of files) stamp.update(fs.readFileSync(path.join(srcDir, f)));
  const digest = stamp.digest('hex');
  const stampFile = path.join(dir, '.installed');
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === digest) return;

  log(`installing ${what} into ${rel(dir)} (one time)…`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(srcDir, f), path.join(dir, f));
  // `npm install` pins what the lockfile lists, like `npm ci` would; but the registry these machines
  // reach lacks other platforms' optional packages, so a lockfile made here can't list them and
  // `npm ci` rejects it as out of sync. --prefix and --workspaces=false keep npm away from the root
  // project's workspace, node_modules and lockfile.
  await runLogged(`install-${name}`, 'npm', ['install', '--prefix', dir, '--workspaces=false', '--no-audit', '--no-fund'], {
    cwd: dir,
  });
  fs.writeFileSync(stampFile, digest);
}

// ---------------------------------------------------------------------------------------------
// Processes we start

// Set in every child's environment: /proc/<pid>/environ then says which stack and component a process
// is, whatever it did to its command line (Soketi renames itself "soketi-server").
const MARK_RUN = 'ONAIR_STACK_RUN_DIR';
const MARK_COMPONENT = 'ONAIR_STACK_COMPONENT';
// What a component's command line holds, besides the marks, for its process to count as ours.
const CMDLINE_MARKS = { nats: NATS_STORE, clickhouse: `--path=${CLICKHOUSE_DATA}`, soketi: 'soketi' };

const readProc = (pid, file) => {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
};

/**
 * A live process' start time (clock ticks after boot, /proc/<pid>/stat field 22) and process group, or
 * null when there is none (a zombie counts as gone). Pid and start time together name one process:
 * pids get reused.
 */
function procInfo(pid) {
  const stat = readProc(pid, 'stat');
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? null : { startTime: fields[19], pgid: Number(fields[2]) };
}

const pidFile = (name) => path.join(PIDS, `${name}.pid`);

function writePidFile(proc) {
  const owner = { pid: process.pid, startTime: procInfo(process.pid)?.startTime };
  fs.mkdirSync(PIDS, { recursive: true });
  fs.writeFileSync(pidFile(proc.name), `${JSON.stringify({ pid: proc.pid, startTime: proc.startTime, where: proc.where, owner })}\n`);
}

function readPidFile(name) {
  try {
    return JSON.parse(fs.readFileSync(pidFile(name), 'utf8'));
  } catch {
    return null;
  }
}

/** Removes the pid file if it still names `pid` (a later launcher may have written its own). */
function removePidFile(name, pid) {
  if (readPidFile(name)?.pid === pid) fs.rmSync(pidFile(name), { force: true });
}

/** True when the record's process is alive and is this run dir's `name`: same start time, marks, command line. */
function isOurProcess(name, record) {
  if (!Number.isInteger(record?.pid) || procInfo(record.pid)?.startTime !== record.startTime) return false;
  const environ = (readProc(record.pid, 'environ') ?? '').split('\0');
  const cmdline = (readProc(record.pid, 'cmdline') ?? '').split('\0').join(' ');
  return environ.includes(`${MARK_RUN}=${RUN}`) && environ.includes(`${MARK_COMPONENT}=${name}`) && cmdline.includes(CMDLINE_MARKS[name]);
}

/**
 * Starts a long-running child in its own process group (so a terminal's Ctrl-C reaches only our
 * launcher, which then stops things in order) with stdout/stderr in <run dir>/logs/<name>.log.
 * `where` (host:port) goes into the pid file: what a later launcher compares with what it wants.
 */
function startProcess(name, cmd, args, { env, cwd, log, started, where }) {
  fs.mkdirSync(LOGS, { recursive: true });
  const logFile = path.join(LOGS, `${name}.log`);
  const fd = fs.openSync(logFile, 'w');
  const marks = { [MARK_RUN]: RUN, [MARK_COMPONENT]: name };
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env, ...marks }, cwd, detached: true });
  fs.closeSync(fd);
  const proc = { name, pid: child.pid, where, logFile, stopping: false, exited: null, adopted: false };
  started.push(proc); // tracked from now on, so a failed or interrupted start is cleaned up too
  const exitPromise = new Promise((resolve) => {
    child.on('error', (err) => {
      proc.exited = `cannot run ${cmd}: ${err.message}`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      proc.exited = `exited (${signal ?? `code ${code}`})`;
      removePidFile(name, proc.pid);
      if (!proc.stopping) log(`${name} ${proc.exited}; log: ${rel(logFile)}`);
      resolve();
    });
  });
  proc.waitExit = () => exitPromise;
  if (proc.pid) {
    proc.startTime = procInfo(proc.pid)?.startTime;
    writePidFile(proc);
  }
  return proc;
}

/** A process an earlier launcher started: not our child, so its end is seen by polling /proc. */
function adoptedProcess(name, record) {
  const proc = { ...record, name, logFile: path.join(LOGS, `${name}.log`), stopping: false, exited: null, adopted: true };
  let exitPromise;
  proc.waitExit = () =>
    (exitPromise ??= (async () => {
      while (procInfo(proc.pid)?.startTime === proc.startTime) await sleep(100);
      proc.exited = 'exited';
      removePidFile(name, proc.pid);
    })());
  return proc;
}

/**
 * `name`'s process left by an earlier launcher of this run dir, found through its pid file. If that
 * launcher is gone (SIGKILLed): adopted into `started` (stop() ends it) when it answers at `where`, else
 * (not answering, elsewhere, or `where` null: not wanted) ended, so that a fresh one can start on the
 * same data dir. If that launcher is alive, the process is its own: left alone, and a conflict is an error.
 * Returns true when the component is up and nothing needs to start.
 */
async function reclaim(name, { where, answers, log, started }) {
  const record = readPidFile(name);
  if (!record) return false;
  if (!isOurProcess(name, record)) {
    // Gone, or the pid now names another process: only the stale file goes.
    fs.rmSync(pidFile(name), { force: true });
    return false;
  }
  const owner = record.owner ?? {};
  if (owner.startTime && procInfo(owner.pid)?.startTime === owner.startTime) {
    if (!where || (record.where === where && (await answers()))) return false; // used as "already running"
    throw new StackError(
      `${name}: ${rel(RUN)} is in use by the stack launcher pid ${owner.pid} (${name} pid ${record.pid} at ${record.where}, ` +
        `not answering at ${where}); stop that launcher, or give this stack its own STACK_RUN_DIR`,
    );
  }
  const proc = adoptedProcess(name, record);
  if (where && record.where === where && (await answers())) {
    started.push(proc);
    writePidFile(proc); // this launcher is its owner now
    log(`${name}: adopted pid ${record.pid} at ${where}, left running by a stack launcher that is gone (stop() ends it)`);
    return true;
  }
  const why = !where ? 'not wanted' : record.where === where ? 'not answering' : `at ${record.where}, not ${where}`;
  log(`${name}: ending pid ${record.pid} left by a stack launcher that is gone (${why})`);
  await stopProcess(proc, log);
  return false;
}

/** SIGTERM to the whole process group, SIGKILL if it is still there after a few seconds. */
async function stopProcess(proc, log, graceMs = 5000) {
  if (proc.exited) return;
  proc.stopping = true;
  // Our children lead their own process group; the group is signalled only while that holds.
  const kill = (sig) => {
    try {
      process.kill(procInfo(proc.pid)?.pgid === proc.pid ? -proc.pid : proc.pid, sig);
    } catch {}
  };
  kill('SIGTERM');
  const timer = setTimeout(() => {
    log(`${proc.name} ignored SIGTERM for ${graceMs / 1000} s: SIGKILL`);
    kill('SIGKILL');
  }, graceMs);
  await proc.waitExit();
  clearTimeout(timer);
  log(`stopped ${proc.name} (pid ${proc.pid}${proc.adopted ? ', adopted' : ''})`);
}

/** Polls `check` until it is true; fails early with the log's tail if the process died. */
async function waitReady(proc, check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc?.exited) throw failure(proc.name, `${proc.exited} before ${what}`, proc.logFile);
    if (await check()) return;
    await sleep(250);
  }
  throw failure(proc.name, `no ${what} within ${timeoutMs / 1000} s`, proc.logFile);
}

// ---------------------------------------------------------------------------------------------
// Components. Each resolves once its service answers; processes it spawns go into `started`.

async function ensureNats({ env, log, started }) {
  const addr = hostPort(env.NATS_URL, 4222);
  const where = `${addr.host}:${addr.port}`;
  if (await reclaim('nats', { where, answers: () => tcpReachable(addr), log, started })) return;
  if (await tcpReachable(addr)) return log(`nats: already running at ${env.NATS_URL}`);
  if (!isLocal(addr.host)) throw new StackError(`nats: ${env.NATS_URL} is not reachable (and not local, so not started)`);

  let bin = findExecutable('nats-server', ['/usr/sbin', '/usr/bin']);
  if (!bin) {
    await aptInstall(log, 'nats-server');
    bin = findExecutable('nats-server', ['/usr/sbin', '/usr/bin']);
    if (!bin) throw new StackError('nats: apt-get installed nats-server but no nats-server binary was found');
  }
  fs.mkdirSync(NATS_STORE, { recursive: true });
  log(`nats: starting ${bin} on ${where}`);
  const proc = startProcess('nats', bin, ['-a', addr.host, '-p', String(addr.port), '-js', '-sd', NATS_STORE], { log, started, where });
  await waitReady(proc, () => tcpReachable(addr), 10_000, `TCP answer on port ${addr.port}`);
}

async function ensurePostgres({ env, log }) {
  const addr = hostPort(env.DATABASE_URL, 5432);
  if (await tcpReachable(addr)) return log(`postgres: already running at ${addr.host}:${addr.port}`);
  if (!isLocal(addr.host)) throw new StackError(`postgres: ${addr.host}:${addr.port} is not reachable (and not local, so not started)`);

  const clusterVersion = () =>
    fs.existsSync('/etc/postgresql')
      ? fs.readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a)[0]
      : undefined;
  let version = clusterVersion();
  if (!version) {
    await aptInstall(log, 'postgresql');
    version = clusterVersion();
    if (!version) throw new StackError('postgres: apt-get installed postgresql but /etc/postgresql has no cluster');
    // A fresh Debian cluster asks for passwords on TCP; the project's URLs use trust auth on loopback.
    const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
    const trust = 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n';
    fs.writeFileSync(hba, trust + fs.readFileSync(hba, 'utf8'));
    log(`postgres: installed PostgreSQL ${version}; allowed trust auth on 127.0.0.1 in ${hba}`);
  }
  // A system service (not our child): it keeps running after stop(), like the machine's own one.
  log(`postgres: starting cluster ${version}/main with pg_ctlcluster`);
  try {
    await runLogged('postgres', ...asRoot('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']));
  } catch (err) {
    // "already running" exits non-zero too; reachability below is what counts.
    if (!(await tcpReachable(addr))) throw err;
  }
  const pseudo = { name: 'postgres', logFile: path.join(LOGS, 'postgres.log') };
  await waitReady(pseudo, () => tcpReachable(addr), 30_000, `TCP answer on port ${addr.port}`);
  log(`postgres: started cluster ${version}/main (a system service: left running at the end)`);
}

async function ensureClickhouse({ env, log, started }) {
  const addr = hostPort(env.CLICKHOUSE_URL, 8123);
  const where = `${addr.host}:${addr.port}`;
  // Before anything else: a ClickHouse left by a killed launcher holds the data dir, wherever it listens.
  if (await reclaim('clickhouse', { where, answers: () => clickhousePing(env.CLICKHOUSE_URL), log, started })) return;
  if (await tcpReachable(addr)) {
    if (await clickhousePing(env.CLICKHOUSE_URL)) return log(`clickhouse: already running at ${env.CLICKHOUSE_URL}`);
    throw new StackError(`clickhouse: ${addr.host}:${addr.port} is taken by something that does not answer GET /ping with "Ok."`);
  }
  if (!isLocal(addr.host)) throw new StackError(`clickhouse: ${env.CLICKHOUSE_URL} is not reachable (and not local, so not started)`);

  const dir = path.join(STACK, 'chdb');
  await npmInstallOnce(log, 'clickhouse', dir, `ClickHouse ${CHDB_VERSION} (chDB, a 178 MB download)`);
  const lib = path.join(dir, 'node_modules/@chdb/lib-linux-x64-gnu/libchdb.so');
  if (!fs.existsSync(lib)) throw new StackError(`clickhouse: ${rel(lib)} is missing after npm install (delete ${rel(dir)} to reinstall)`);

  const src = path.join(HERE, 'clickhouse/chdb-server.c');
  const bin = path.join(dir, 'chdb-server');
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs) {
    if (!findExecutable('gcc')) await aptInstall(log, 'gcc', 'libc6-dev');
    log('clickhouse: compiling chdb-server launcher');
    await runLogged('install-clickhouse', 'gcc', ['-O2', '-o', bin, src, '-ldl']);
  }

  const dataDir = CLICKHOUSE_DATA;
  fs.mkdirSync(dataDir, { recursive: true });
  log(`clickhouse: starting ClickHouse (chDB) on ${addr.host}:${addr.port}, data in ${rel(dataDir)}`);
  const args = ['clickhouse', `--path=${dataDir}`, `--http_port=${addr.port}`, `--listen_host=${addr.host}`, '--query', CH_SERVE_QUERY];
  // cwd = data dir: clickhouse-local may drop files into its working directory.
  const proc = startProcess('clickhouse', bin, args, { env: { CHDB_LIB: lib }, cwd: dataDir, log, started, where });
  await waitReady(proc, () => clickhousePing(env.CLICKHOUSE_URL), 60_000, 'answer "Ok." on GET /ping');
}

async function ensureSoketi({ env, log, started }) {
  const addr = { host: env.PUSHER_HOST, port: Number(env.PUSHER_PORT) };
  const where = `${addr.host}:${addr.port}`;
  const url = `http://${where}/`;
  // Installed even when a Soketi already answers (another checkout's stack, say): tests start private
  // Soketi nodes from this install (presence, the realtime load tool). A stamped install costs nothing.
  const dir = path.join(STACK, 'soketi');
  await npmInstallOnce(log, 'soketi', dir, 'Soketi 1.6.1');
  if (await reclaim('soketi', { where, answers: async () => (await httpGet(url))?.status === 200, log, started })) return;
  if (await tcpReachable(addr)) return log(`soketi: already running at ${addr.host}:${addr.port}`);
  if (!isLocal(addr.host)) throw new StackError(`soketi: ${addr.host}:${addr.port} is not reachable (and not local, so not started)`);

  const server = path.join(dir, 'node_modules/@soketi/soketi/bin/server.js');
  if (!fs.existsSync(server)) throw new StackError(`soketi: ${rel(server)} is missing after npm install (delete ${rel(dir)} to reinstall)`);

  const soketiEnv = {
    SOKETI_HOST: addr.host,
    SOKETI_PORT: String(addr.port),
    SOKETI_METRICS_HOST: '127.0.0.1',
    SOKETI_METRICS_SERVER_PORT: process.env.SOKETI_METRICS_SERVER_PORT ?? '9601',
    SOKETI_DEFAULT_APP_ID: env.PUSHER_APP_ID,
    SOKETI_DEFAULT_APP_KEY: env.PUSHER_APP_KEY,
    SOKETI_DEFAULT_APP_SECRET: env.PUSHER_APP_SECRET,
    SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES: 'true',
    // Its default 3 s wait for sockets to drain only slows every Ctrl-C and test run down.
    SOKETI_SHUTDOWN_GRACE_PERIOD: process.env.SOKETI_SHUTDOWN_GRACE_PERIOD ?? '1000',
    // Occupancy and presence webhooks go to the realtime gateway, which turns them into audience counts
    // on NATS. Soketi drops a webhook it cannot deliver, so starting before the gateway costs nothing.
    SOKETI_DEFAULT_APP_WEBHOOKS:
      process.env.SOKETI_DEFAULT_APP_WEBHOOKS ??
      JSON.stringify([
        {
          url: `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8082}/pusher/webhooks`,
          event_types: ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed'],
        },
      ]),
    // Other SOKETI_* settings pass through from process.env.
  };
  log(`soketi: starting on ${addr.host}:${addr.port} (app ${env.PUSHER_APP_ID})`);
  const proc = startProcess('soketi', process.execPath, [server, 'start'], { env: soketiEnv, cwd: dir, log, started, where });
  await waitReady(proc, async () => (await httpGet(url))?.status === 200, 30_000, `answer on GET ${url}`);
}

const STARTERS = { nats: ensureNats, postgres: ensurePostgres, clickhouse: ensureClickhouse, soketi: ensureSoketi };

// ---------------------------------------------------------------------------------------------

/**
 * Makes the stack's services reachable. Returns { env, stop }: env for the services, stop() ends
 * only the processes this call started.
 */
export async function ensureStack({ log = defaultLog, components = COMPONENTS } = {}) {
  const env = stackEnv();
  const wanted = components.filter((c) => !(c === 'clickhouse' && env.CLICKHOUSE_URL === ''));
  if (wanted.length < components.length) log('clickhouse: skipped (CLICKHOUSE_URL is empty)');
  for (const c of wanted) if (!STARTERS[c]) throw new StackError(`unknown component "${c}" (known: ${COMPONENTS.join(', ')})`);

  const started = [];
  let stopping;
  const stop = () => (stopping ??= Promise.all(started.map((p) => stopProcess(p, log))));
  // Last resort if our process dies without stop() (uncaught error, process.exit): no orphans.
  const killOnExit = () => {
    for (const p of started) if (!p.exited) try { process.kill(-p.pid, 'SIGTERM'); } catch {}
  };
  process.on('exit', killOnExit);
  // Ctrl-C while installing or waiting: stop what is already up instead of leaving it behind.
  const onSignal = (sig) => {
    log(`${sig} while starting: stopping what was started`);
    stop().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  try {
    // Left behind by a killed launcher but not wanted now: ended (a component that is wanted checks its own).
    for (const c of COMPONENTS) if (!wanted.includes(c) && c !== 'postgres') await reclaim(c, { where: null, log, started });
    // In parallel: a warm start takes as long as the slowest service, not the sum.
    const results = await Promise.allSettled(wanted.map((c) => STARTERS[c]({ env, log, started })));
    const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (errors.length) {
      await stop();
      throw errors.length === 1 ? errors[0] : new StackError(errors.map((e) => e.message).join('\n'));
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  return { env, stop, started: started.map((p) => ({ name: p.name, pid: p.pid, adopted: p.adopted })) };
}

/**
 * `npm install` when the root has no node_modules yet. Not `npm ci`: the registry these machines reach
 * lacks other platforms' optional packages (nx, rollup, esbuild binaries), so the lockfile made here
 * cannot list them and `npm ci` refuses it as out of sync. `npm install` still pins what it lists.
 */
export async function ensureNodeModules(log = defaultLog) {
  if (fs.existsSync(path.join(ROOT, 'node_modules'))) return;
  const args = ['install', '--no-audit', '--no-fund'];
  log('node_modules is missing: npm install');
  const code = await runInherit('npm', args, { cwd: ROOT });
  if (code !== 0) throw new StackError(`npm install failed (exit ${code})`);
}

let currentChild = null;

function runInherit(cmd, args, { env = process.env, cwd = ROOT } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env, cwd });
    currentChild = child;
    child.on('error', (err) => {
      defaultLog(`cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      currentChild = null;
      resolve(code ?? 128 + (os.constants.signals[signal] ?? 0));
    });
  });
}

/**
 * Installs packages if needed, brings the stack up, runs `commands` (each [cmd, ...args]) one after
 * the other with the stack's env and node_modules/.bin on PATH (like npx), stops what it started and
 * exits with the first non-zero exit code (or 0). SIGINT/SIGTERM are passed on to the running command.
 */
export async function runWithStack(commands, { components, banner } = {}) {
  let stack;
  try {
    await ensureNodeModules();
    stack = await ensureStack({ components });
  } catch (err) {
    defaultLog(err instanceof StackError ? err.message : err.stack);
    process.exit(1);
  }
  if (banner) console.error(banner(stack.env));

  let interrupted = false;
  const forwarded = new Set();
  const onSignal = (sig) => {
    interrupted = true;
    // Forwarded for `kill <pid>` and CI. A terminal's Ctrl-C also reaches the command directly
    // (same process group) and `npm run` hands it to us a second time: pass each signal on once.
    if (currentChild && !forwarded.has(sig)) currentChild.kill(sig);
    forwarded.add(sig);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const env = {
    ...process.env,
    ...stack.env,
    PATH: [path.join(ROOT, 'node_modules/.bin'), process.env.PATH].join(path.delimiter),
  };
  let code = 0;
  for (const [cmd, ...args] of commands) {
    if (interrupted) break;
    code = await runInherit(cmd, args, { env, cwd: process.cwd() });
    if (code !== 0) break;
  }
  await stack.stop();
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------
// CLI

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...components] = process.argv.slice(2);
  if (cmd !== 'up') {
    console.error('usage: node tools/stack/stack.mjs up [nats|postgres|clickhouse|soketi ...]');
    process.exit(2);
  }
  const t0 = Date.now();
  let stack;
  try {
    stack = await ensureStack({ components: components.length ? components : COMPONENTS });
  } catch (err) {
    defaultLog(err instanceof StackError ? err.message : err.stack);
    process.exit(1);
  }
  for (const [k, v] of Object.entries(stack.env)) console.log(`${k}=${v}`);
  const mine = stack.started.map((p) => `${p.name} (pid ${p.pid}${p.adopted ? ', adopted' : ''})`).join(', ') || 'nothing';
  defaultLog(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s; started ${mine}. Ctrl-C stops what was started.`);
  const shutdown = () => stack.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown);
  // Nothing else holds the event loop when everything was already running.
  setInterval(() => {}, 1 << 30);
}
