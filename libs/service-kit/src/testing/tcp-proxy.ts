import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy a test can use to break a real dependency (Postgres, ClickHouse) for the code
 * under test only:
 * - `down()` closes the listener and cuts every connection: new connections are refused, exactly as
 *   if the server had stopped; `up()` listens again.
 * - `hold()` keeps connections open but forwards nothing, so requests hang mid-flight; `release()`
 *   delivers what was held (even from a client that has died since) and forwards again.
 */
export interface TcpProxy {
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
  clientGone: boolean;
}

export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let boundPort = port;
  let holding = false;

  const forward = (pair: Pair) => {
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.toClient.splice(0)) if (!pair.clientGone) pair.client.write(chunk);
    if (pair.clientGone) pair.upstream.end();
  };

  const accept = (client: Socket) => {
    const pair: Pair = { client, upstream: connect(target.port, target.host), toUpstream: [], toClient: [], clientGone: false };
    pairs.add(pair);
    const drop = () => {
      pair.client.destroy();
      pair.upstream.destroy();
      pairs.delete(pair);
    };
    client.on('data', (chunk) => (holding ? pair.toUpstream.push(chunk) : pair.upstream.write(chunk)));
    pair.upstream.on('data', (chunk) => (holding ? pair.toClient.push(chunk) : client.write(chunk)));
    client.on('close', () => {
      pair.clientGone = true;
      // A client dying while held still gets its held bytes delivered on release(), as a packet in
      // flight would be: that is how a statement commits on a server whose client never hears of it.
      if (!holding) pair.upstream.end();
    });
    pair.upstream.on('close', drop);
    client.on('error', () => undefined);
    pair.upstream.on('error', drop);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(accept);
      s.once('error', reject);
      s.listen(boundPort, '127.0.0.1', () => {
        boundPort = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const down = async () => {
    const s = server;
    server = undefined;
    for (const pair of pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return boundPort;
    },
    down,
    up: () => (server ? Promise.resolve() : listen()),
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const pair of pairs) forward(pair);
    },
    close: down,
  };
}
