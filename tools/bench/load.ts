import { connect, type Socket } from 'node:net';

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A deliberately thin HTTP/1.1 load client: requests are serialised to bytes up front and written on
 * `connections` keep-alive sockets, one in flight per socket, and only the status line and
 * Content-Length of each answer are read. A full client (undici) cost more CPU than the server under
 * test on this 2-core machine, so it measured itself.
 */
export async function runLoad(
  url: string,
  requests: Array<{ headers: Record<string, string>; body: string }>,
  connections: number,
  okStatus = 202,
): Promise<LoadResult> {
  const { hostname, port, pathname } = new URL(url);
  const wire = requests.map(({ headers, body }) => {
    const head = Object.entries({ ...headers, host: `${hostname}:${port}`, 'content-length': String(Buffer.byteLength(body)) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    return Buffer.from(`POST ${pathname} HTTP/1.1\r\n${head}\r\n${body}`);
  });
  const latencies = new Float64Array(requests.length);
  let next = 0;
  let ok = 0;
  let errors = 0;
  const started = performance.now();

  const worker = () =>
    new Promise<void>((resolve) => {
      const socket: Socket = connect(Number(port), hostname);
      socket.setNoDelay(true);
      let current = -1;
      let sentAt = 0;
      let buffer = Buffer.alloc(0);
      const send = () => {
        if (next >= wire.length) {
          socket.end();
          return resolve();
        }
        current = next++;
        sentAt = performance.now();
        socket.write(wire[current]!);
      };
      socket.on('connect', send);
      socket.on('error', () => {
        errors += wire.length - next;
        next = wire.length;
        resolve();
      });
      socket.on('data', (chunk) => {
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        for (;;) {
          const headEnd = buffer.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = buffer.subarray(0, headEnd).toString('latin1');
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length < headEnd + 4 + length) return;
          buffer = buffer.subarray(headEnd + 4 + length);
          latencies[current] = performance.now() - sentAt;
          if (Number(head.slice(9, 12)) === okStatus) ok++;
          else errors++;
          send();
        }
      });
    });

  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
  return { sent: requests.length, ok, errors, seconds, perSecond: ok / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}
