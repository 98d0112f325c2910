import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortForTests, waitFor } from '@onair/service-kit/testing';

export interface SoketiNats {
  /** What the Soketi nodes' NATS adapter connects with (`startPrivateSoketi`'s `natsAdapter`). */
  adapter: { servers: string[]; user: string; password: string };
  pid: number;
  stop(): Promise<void>;
}

/**
 * A NATS server for the Soketi nodes' adapter, with an account only Soketi uses, as deployed
 * (deploy/README.md, "Soketi's NATS account"): the adapter counts the connections of its own account as
 * its nodes, so a killed node stops being counted as soon as its connection drops, instead of being waited
 * for (`SOKETI_ADAPTER_NATS_NODES_NUMBER` fixed at 2 made every socket that moved to the surviving node
 * wait the adapter's request timeout on the dead one). Its own server rather than an account on the
 * system's NATS: that one runs without accounts, and the services' streams stay there.
 */
export async function startSoketiNats(): Promise<SoketiNats> {
  const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find(existsSync);
  if (!bin) throw new Error('nats-server is not installed (the stack installs it: node tools/stack/stack.mjs up nats)');
  const port = await freePortForTests();
  const dir = mkdtempSync(join(tmpdir(), 'soketi-nats-'));
  const password = crypto.randomUUID();
  writeFileSync(
    join(dir, 'nats.conf'),
    `listen: 127.0.0.1:${port}\naccounts {\n  SOKETI: { users: [ { user: soketi, password: "${password}" } ] }\n}\n`,
  );
  const child = spawn(bin, ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' });
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  const reachable = () =>
    new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  await waitFor(reachable, (ok) => ok, { what: "Soketi's NATS to listen", timeoutMs: 10_000, intervalMs: 100 });
  return {
    adapter: { servers: [`127.0.0.1:${port}`], user: 'soketi', password },
    pid: child.pid!,
    async stop() {
      process.off('exit', orphanGuard);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
