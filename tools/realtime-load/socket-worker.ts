/**
 * One load-client process of the realtime load tool: holds thousands of Pusher-protocol sockets (raw `ws`,
 * not pusher-js, which costs too much CPU per socket to load a server from the same machine), and on
 * "measuring" sockets reads every chat message's send time (`lt:<ms>` in its content) to record the
 * end-to-end latency. Driven by its parent over IPC.
 */
import WebSocket from 'ws';
import { createHistogram, record } from './histogram';

export type WorkerCommand =
  | { type: 'connect'; key: string; sockets: Array<{ port: number; channel: string; measure: boolean }> }
  | { type: 'report'; reset: boolean }
  | { type: 'close' };

export interface WorkerReport {
  type: 'report';
  open: number;
  /** Event frames (not protocol frames) received on all sockets. */
  frames: number;
  /** Chat messages received on measuring sockets. */
  messages: number;
  histogram: number[];
  errors: number;
  closes: number;
}

const sockets: WebSocket[] = [];
let histogram = createHistogram();
let frames = 0;
let messages = 0;
let errors = 0;
let closes = 0;
let open = 0;
const STAMP = /lt:(\d{13})/g;

function connect(key: string, port: number, channel: string, measure: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${key}?protocol=7&client=onair-load&version=1.0`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    sockets.push(ws);
    let subscribed = false;
    const timer = setTimeout(() => {
      if (!subscribed) resolve(false);
    }, 30_000);
    ws.on('message', (data: Buffer) => {
      // Protocol frames are small and name a pusher event near the start; chat frames are counted unparsed.
      if (data.length < 512 && data.subarray(0, 64).includes('"pusher')) {
        const frame = JSON.parse(data.toString()) as { event: string };
        if (frame.event === 'pusher:connection_established') ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel } }));
        else if (frame.event === 'pusher_internal:subscription_succeeded') {
          subscribed = true;
          open++;
          clearTimeout(timer);
          resolve(true);
        } else if (frame.event === 'pusher:ping') ws.send('{"event":"pusher:pong","data":{}}');
        return;
      }
      frames++;
      if (!measure) return;
      const now = Date.now();
      const text = data.toString();
      for (const match of text.matchAll(STAMP)) {
        messages++;
        record(histogram, now - Number(match[1]));
      }
    });
    ws.on('error', () => {
      errors++;
      if (!subscribed) {
        clearTimeout(timer);
        resolve(false);
      }
    });
    ws.on('close', () => {
      if (subscribed) {
        open--;
        closes++;
      }
    });
  });
}

process.on('message', async (command: WorkerCommand) => {
  if (command.type === 'connect') {
    // A few hundred handshakes at a time: the server's accept queue is not what is being measured.
    const results: boolean[] = [];
    for (let i = 0; i < command.sockets.length; i += 200) {
      results.push(...(await Promise.all(command.sockets.slice(i, i + 200).map((s) => connect(command.key, s.port, s.channel, s.measure)))));
    }
    process.send!({ type: 'connected', ok: results.filter(Boolean).length, failed: results.filter((r) => !r).length });
  } else if (command.type === 'report') {
    const report: WorkerReport = { type: 'report', open, frames, messages, histogram: Array.from(histogram), errors, closes };
    if (command.reset) {
      histogram = createHistogram();
      frames = messages = errors = closes = 0;
    }
    process.send!(report);
  } else if (command.type === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
