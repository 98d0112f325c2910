import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { freePortForTests as freePort } from '@onair/service-kit/testing';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTopology, DEFAULT_STREAM_LIMITS, streamDefinitions, type StreamLimits, type Topology } from '@onair/contracts';
import { pino } from 'pino';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectMessaging, natsServers, type Messaging } from '../connection';
import { ensureStreams } from '../ensure';

export const TEST_NATS_URL = process.env['NATS_URL'] || 'nats://127.0.0.1:4222';

/**
 * Small stream caps for tests: JetStream reserves each file stream's max_bytes against the server's
 * storage, so many test files with production-sized streams (8 GiB of chat each) would exhaust it.
 */
const TEST_STREAM_LIMITS: StreamLimits = {
  ...DEFAULT_STREAM_LIMITS,
  chatMaxBytes: 256 * 1024 ** 2,
  eventsMaxBytes: 64 * 1024 ** 2,
  probesMaxBytes: 64 * 1024 ** 2,
};

/** Test streams (`T_…`) left behind by a run that crashed more than an hour ago are deleted. */
async function deleteStaleTestStreams(messaging: Messaging): Promise<void> {
  const cutoff = Date.now() - 3_600_000;
  for await (const stream of messaging.jsm.streams.list()) {
    if (stream.config.name.startsWith('T_') && Date.parse(stream.created) < cutoff) {
      await messaging.jsm.streams.delete(stream.config.name).catch(() => undefined);
    }
  }
}

/**
 * A namespace unique to one test file and run (`t_<name>_<random>`), so its streams and subjects never
 * meet another file's, with the streams created. `cleanup()` deletes them.
 */
export async function createTestTopology(
  name: string,
  options: { url?: string | readonly string[]; limits?: Partial<StreamLimits> } = {},
): Promise<{ topology: Topology; messaging: Messaging; cleanup(): Promise<void> }> {
  const namespace = `t_${name.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(3).toString('hex')}`;
  const topology = createTopology(namespace);
  const messaging = await connectMessaging({ url: options.url ?? TEST_NATS_URL, name: `test-${name}`, logger: pino({ level: 'silent' }) });
  await deleteStaleTestStreams(messaging);
  const defs = streamDefinitions(topology, { ...TEST_STREAM_LIMITS, ...options.limits });
  await ensureStreams(messaging.jsm, defs);
  return {
    topology,
    messaging,
    async cleanup() {
      for (const def of defs) await messaging.jsm.streams.delete(def.name).catch(() => undefined);
      await messaging.drain();
    },
  };
}

/**
 * A private nats-server with JetStream for tests that stop or kill NATS (the shared one must stay up for
 * the other test files). Uses the `nats-server` binary of the machine.
 */
export async function startPrivateNats(): Promise<{ url: string; port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'onair-nats-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    const binary = process.env['NATS_SERVER_BIN'] ?? whichNats();
    child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
    await waitForPort(port, 10_000);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  // The store outlives stop()/start() so a restarted server keeps its streams; it goes at process exit.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await start();
  return { url: `nats://127.0.0.1:${port}`, port, start, stop };
}

/** One server of a `startNatsCluster` cluster. */
export interface ClusterNode {
  /** `n1`, `n2`, … as the server names itself (`cluster.leader` in stream info names it so). */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** True while the process runs. */
  readonly running: boolean;
  /** SIGKILL: no goodbye to the cluster, as a crashed machine. The store stays for `start()`. */
  kill(): Promise<void>;
  /** Starts the server again on the same ports and store; resolves once it takes client connections. */
  start(): Promise<void>;
}

export interface NatsCluster {
  nodes: ClusterNode[];
  /** Every node's client URL, for `NATS_URL` (comma-joined) or `connectMessaging({ url })`. */
  urls: string[];
  node(name: string): ClusterNode;
  /** Kills every node and deletes the stores. */
  stop(): Promise<void>;
}

/**
 * A JetStream cluster of `size` nats-server processes on loopback, each with its own client port, route
 * port and store in a temporary folder, routed to each other (cluster `c1`). For tests that lose a node.
 * Resolves once every node takes client connections and JetStream has elected its meta leader (until
 * then every JetStream API request times out).
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const root = mkdtempSync(join(tmpdir(), 'onair-nats-cluster-'));
  const binary = process.env['NATS_SERVER_BIN'] ?? whichNats();
  const specs: { name: string; port: number; routePort: number; dir: string }[] = [];
  for (let i = 1; i <= size; i++) {
    specs.push({ name: `n${i}`, port: await freePort(), routePort: await freePort(), dir: join(root, `n${i}`) });
  }
  const routes = specs.map((s) => `nats://127.0.0.1:${s.routePort}`).join(',');
  const children = new Set<ChildProcess>();
  const nodes = specs.map((spec): ClusterNode => {
    let child: ChildProcess | undefined;
    const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
    return {
      name: spec.name,
      url: `nats://127.0.0.1:${spec.port}`,
      port: spec.port,
      get running() {
        return running();
      },
      async start() {
        if (running()) return;
        child = spawn(
          binary,
          ['-a', '127.0.0.1', '-p', String(spec.port), '-n', spec.name, '-js', '-sd', spec.dir,
            '--cluster_name', 'c1', '-cluster', `nats://127.0.0.1:${spec.routePort}`, '-routes', routes],
          { stdio: 'ignore' },
        );
        children.add(child);
        child.once('exit', () => children.delete(child!));
        await waitForPort(spec.port, 10_000);
      },
      async kill() {
        if (!child || !running()) return;
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      },
    };
  });
  const remove = () => rmSync(root, { recursive: true, force: true });
  // A test process that dies without stop() leaves no servers behind: kill() is synchronous enough here.
  process.once('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    remove();
  });
  await Promise.all(nodes.map((n) => n.start()));
  await waitForJetStream(nodes.map((n) => n.url), 30_000);
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    node(name) {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new Error(`no node ${name} in the cluster`);
      return found;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      remove();
    },
  };
}

/** Waits until the JetStream API answers on `urls` (a cluster has a meta leader). */
export async function waitForJetStream(urls: string | readonly string[], timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: natsServers(urls), timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 1_000 });
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > until) throw new Error(`JetStream did not answer within ${timeoutMs} ms`, { cause: error });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}

function whichNats(): string {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return 'nats-server';
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
