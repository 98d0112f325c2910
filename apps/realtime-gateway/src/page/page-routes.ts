import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { browserScript, HttpError } from '@onair/service-kit';
import { parseRoomId } from '@onair/contracts';

export interface RoomPageOptions {
  /** What the browser needs to open a socket: public values only, never the secret. */
  pusher: { key: string; wsHost: string; wsPort: number; forceTLS: boolean };
  /** Where the page reaches the gifts service (the gateway's forwarding prefix); absent: no gift form. */
  giftsUrl?: string;
}

/**
 * The room page's script: the bundle `nx build realtime-gateway` writes next to the built service
 * (dist/apps/realtime-gateway/room-page.js), or, run from source (tsx, tests), the source bundled on first
 * request, so the page always matches the room client it ships.
 */
const script = browserScript({
  source: fileURLToPath(new URL('./room-page.browser.ts', import.meta.url)),
  prebuilt: fileURLToPath(new URL('./room-page.js', import.meta.url)),
});

/**
 * `GET /rooms/:roomId`: a small live room page (chat, viewers, audience, gifts, room state), and its script
 * at `/assets/room-page.js`. The built service serves the bundle made by its build; run from source, the
 * script is bundled on first request and kept, so the page always matches the room client it ships.
 */
export function registerRoomPage(app: FastifyInstance, options: RoomPageOptions): void {
  app.get('/assets/room-page.js', async (_request, reply) => {
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(await script());
  });

  app.get<{ Params: { roomId: string } }>('/rooms/:roomId', async (request, reply) => {
    const { roomId } = request.params;
    if (!parseRoomId(roomId)) throw new HttpError(400, 'invalid_room_id', 'Room id must be 1-64 of A-Z a-z 0-9 _ - (or kick-<id>)');
    const config = JSON.stringify({ roomId, pusher: options.pusher, ...(options.giftsUrl ? { giftsUrl: options.giftsUrl } : {}) }).replace(/</g, '\\u003c');
    return reply.type('text/html; charset=utf-8').send(page(roomId, config));
  });
}

function page(roomId: string, config: string): string {
  // roomId passed parseRoomId: [A-Za-z0-9_-] only, safe in HTML as is.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Room ${roomId} · onair</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: grid; grid-template: auto 1fr / 2fr 1fr; height: 100vh; }
  header { grid-column: 1 / 3; display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1rem; background: #111; color: #eee; }
  header h1 { font-size: 1.1rem; margin: 0; }
  #live { font-weight: bold; color: #f55; }
  #chat { list-style: none; margin: 0; padding: .5rem 1rem; overflow-y: auto; }
  #chat li { padding: .15rem 0; }
  #chat li.gap { color: #888; font-style: italic; text-align: center; }
  aside { border-left: 1px solid #ddd; padding: .5rem 1rem; overflow-y: auto; }
  aside h2 { font-size: .95rem; margin: .5rem 0; }
  small { color: #888; }
  #gift-form { display: grid; grid-template-columns: 1fr 4rem; gap: .35rem; margin: .25rem 0 .5rem; }
  #gift-form button, #gift-form small { grid-column: 1 / 3; }
  #gift-form[hidden], #sign-in[hidden] { display: none; }
  ol.board { margin: 0 0 .5rem; padding-left: 1.4rem; }
</style>
</head>
<body data-connection="initialized">
<header>
  <h1>Room ${roomId}</h1>
  <span id="live"></span>
  <span>viewers <b id="viewers">–</b></span>
  <span>here now <b id="audience">–</b></span>
  <small id="connection">connecting</small>
</header>
<ul id="chat" aria-live="polite"></ul>
<aside>
  <h2>Send a gift</h2>
  <form id="sign-in" hidden>
    <input id="token" type="password" placeholder="session token" autocomplete="off" aria-label="session token">
    <button type="submit">Sign in</button>
  </form>
  <form id="gift-form" hidden>
    <select id="gift-choice" aria-label="gift"></select>
    <input id="gift-quantity" type="number" min="1" max="1000" value="1" aria-label="quantity">
    <button id="gift-send" type="submit">Send</button>
    <small>balance <b id="balance">–</b> coins · <span id="gift-status"></span></small>
  </form>
  <h2>Top gifters</h2>
  <small>this stream</small>
  <ol class="board" id="leaderboard-stream"></ol>
  <small>today (UTC) <span id="leaderboard-day-name"></span></small>
  <ol class="board" id="leaderboard-day"></ol>
  <h2>Gifts</h2>
  <ul id="gifts"></ul>
  <h2>Stage</h2>
  <p id="room-state"><small>nothing yet</small></p>
</aside>
<script type="application/json" id="room-config">${config}</script>
<script src="/assets/room-page.js"></script>
</body>
</html>`;
}
