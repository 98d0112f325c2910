/// <reference lib="dom" />
/**
 * The live room page's script, bundled for the browser by `page-routes.ts`: chat through the gap-recovering
 * room feed, and viewer counts, audience, gifts and room state as they arrive over pusher-js.
 */
import Pusher from 'pusher-js';
import { createRoomFeed, jitterReconnects, type ChatItem } from '@onair/room-client';

interface PageConfig {
  roomId: string;
  pusher: { key: string; wsHost: string; wsPort: number; forceTLS: boolean };
  /** Where the gifts service answers (the gateway forwards it); absent: no gift form. */
  giftsUrl?: string;
}

const config = JSON.parse(document.getElementById('room-config')!.textContent!) as PageConfig;
const $ = (id: string) => document.getElementById(id)!;

const pusher = new Pusher(config.pusher.key, {
  cluster: 'mt1',
  wsHost: config.pusher.wsHost,
  wsPort: config.pusher.wsPort,
  wssPort: config.pusher.wsPort,
  forceTLS: config.pusher.forceTLS,
  enabledTransports: ['ws', 'wss'],
  disableStats: true,
});
// A Soketi node that restarts drops every socket at once: come back spread over a few seconds.
jitterReconnects(pusher, { maxDelayMs: 3_000 });
pusher.connection.bind('state_change', ({ current }: { current: string }) => {
  $('connection').textContent = current;
  document.body.dataset['connection'] = current;
});

function renderChat(messages: readonly ChatItem[]) {
  const list = $('chat');
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  const items: HTMLElement[] = [];
  for (const m of messages) {
    // Where the feed skipped what a long absence missed, say so instead of pretending chat was quiet.
    if (feed?.gaps().some((g) => g.before === m.seq)) {
      const gap = document.createElement('li');
      gap.className = 'gap';
      gap.textContent = 'older messages not shown';
      items.push(gap);
    }
    const li = document.createElement('li');
    li.dataset['seq'] = String(m.seq);
    const who = document.createElement('b');
    who.textContent = m.sender.name;
    li.append(who, document.createTextNode(` ${m.content}`));
    items.push(li);
  }
  list.replaceChildren(...items);
  if (atBottom || !scrolledBack) list.scrollTop = list.scrollHeight;
}

let scrolledBack = false;
// Opens with the room's newest messages (one request, whatever the room's size), then live; older ones
// are fetched only when the reader scrolls to the top.
const feed = createRoomFeed({
  pusher,
  roomId: config.roomId,
  gatewayUrl: location.origin,
  history: 50,
  keep: 500,
  onChange: renderChat,
  onError: (error) => console.warn('chat backfill failed; retried on the next reconnect', error),
});

let loadingOlder = false;
$('chat').addEventListener('scroll', () => {
  const list = $('chat');
  if (list.scrollTop > 0 || loadingOlder) return;
  loadingOlder = true;
  scrolledBack = true;
  const before = list.scrollHeight;
  void feed
    .loadOlder()
    .then(() => {
      // Keep the reader's place: the list grew above them.
      list.scrollTop = list.scrollHeight - before;
    })
    .finally(() => {
      loadingOlder = false;
    });
});

feed.channel.bind('viewers', (p: { viewers: number; live: boolean }) => {
  $('viewers').textContent = String(p.viewers);
  $('live').textContent = p.live ? 'LIVE' : 'offline';
});
feed.channel.bind('live', (p: { data: { is_live?: boolean } }) => {
  $('live').textContent = p.data.is_live ? 'LIVE' : 'offline';
});
feed.channel.bind('presence', (p: { data: { channel: string; subscriptions: number } }) => {
  if (!p.data.channel.startsWith('presence-')) $('audience').textContent = String(p.data.subscriptions);
});
feed.channel.bind('gift', (p: { type: string; data: { sender?: { username?: string }; gifter?: { username?: string }; gift?: { name?: string; amount?: number } } }) => {
  const li = document.createElement('li');
  const from = p.data.sender?.username ?? p.data.gifter?.username ?? 'someone';
  li.textContent = p.data.gift ? `${from} sent ${p.data.gift.name ?? 'a gift'} (${p.data.gift.amount ?? 0})` : `${from}: ${p.type}`;
  $('gifts').prepend(li);
});
feed.channel.bind('room-state', (p: { type: string; data: { event?: string; participant?: { name?: string } } }) => {
  $('room-state').textContent = `${p.data.event ?? p.type}${p.data.participant?.name ? `: ${p.data.participant.name}` : ''}`;
});

// ---- leaderboards: the room's top gifters of this stream and of the day, read once, then live
interface Gifter {
  senderId: string;
  name: string;
  coins: number;
  gifts: number;
}
interface Leaderboard {
  at: number;
  day: { day: string; top: Gifter[] };
  stream: { id: number; startedAt: string; top: Gifter[] } | null;
}
let boardAt = 0;
function renderBoard(board: Leaderboard) {
  // The first read and the live events may cross: keep the newest.
  if (board.at < boardAt) return;
  boardAt = board.at;
  const fill = (id: string, top: readonly Gifter[]) =>
    $(id).replaceChildren(
      ...top.map((g) => {
        const li = document.createElement('li');
        li.dataset['sender'] = g.senderId;
        li.textContent = `${g.name} ${g.coins}`;
        return li;
      }),
    );
  fill('leaderboard-stream', board.stream?.top ?? []);
  fill('leaderboard-day', board.day.top);
  $('leaderboard-day-name').textContent = board.day.day;
}
feed.channel.bind('leaderboard', renderBoard);
void fetch(`${location.origin}/v1/rooms/${encodeURIComponent(config.roomId)}/leaderboard`)
  .then((res) => (res.ok ? (res.json() as Promise<Leaderboard>) : undefined))
  .then((board) => board && renderBoard(board))
  .catch(() => undefined);

// ---- sending gifts (signed-in viewers). Dev sign-in: a session token in the URL fragment (#token=…) or
// the field; the fragment is taken off the address at once, the token kept for this tab only.
const TOKEN_KEY = 'onair.session';
function takeToken(): string | null {
  const fromHash = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1))?.[1];
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromHash));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** A fresh idempotency key: one per click, sent again unchanged by every retry of that click. */
function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startGifts(giftsUrl: string) {
  let token = takeToken();
  const status = (text: string, outcome: string) => {
    $('gift-status').textContent = text;
    $('gift-form').dataset['outcome'] = outcome;
  };
  const showBalance = (balance: number) => {
    $('balance').textContent = String(balance);
  };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${giftsUrl}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });

  const signedOut = (why?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    ($('gift-form') as HTMLFormElement).hidden = true;
    ($('sign-in') as HTMLFormElement).hidden = false;
    if (why) ($('token') as HTMLInputElement).placeholder = why;
  };

  const signedIn = async () => {
    ($('sign-in') as HTMLFormElement).hidden = true;
    ($('gift-form') as HTMLFormElement).hidden = false;
    const [catalog, wallet] = await Promise.all([api('/v1/catalog'), api('/v1/wallet')]);
    if (wallet.status === 401) return signedOut('token refused: paste another');
    if (catalog.ok) {
      const { gifts } = (await catalog.json()) as { gifts: Array<{ id: string; name: string; priceCoins: number }> };
      ($('gift-choice') as HTMLSelectElement).replaceChildren(
        ...gifts.map((g) => {
          const option = document.createElement('option');
          option.value = g.id;
          option.textContent = `${g.name} (${g.priceCoins})`;
          return option;
        }),
      );
    }
    if (wallet.ok) showBalance(((await wallet.json()) as { balance: number }).balance);
    document.body.dataset['gifts'] = 'ready';
  };

  /** One click: the same body and key until the service answers for good (or four tries failed). */
  const send = async (body: { giftId: string; quantity: number; idempotencyKey: string }) => {
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      try {
        res = await api(`/v1/rooms/${encodeURIComponent(config.roomId)}/gifts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      } catch {
        res = undefined; // no answer: the gift may or may not have been taken, so ask again with the same key
      }
      if (res && res.status < 500 && res.status !== 429) return res;
      if (attempt === 3) return res;
      const after = Number(res?.headers.get('retry-after'));
      await sleep(after > 0 ? Math.min(after, 5) * 1000 : 300 * 2 ** attempt);
    }
  };

  $('gift-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const button = $('gift-send') as HTMLButtonElement;
    if (button.disabled) return;
    button.disabled = true;
    status('sending…', 'sending');
    const body = {
      giftId: ($('gift-choice') as HTMLSelectElement).value,
      quantity: Number(($('gift-quantity') as HTMLInputElement).value),
      idempotencyKey: newKey(),
    };
    void send(body)
      .then(async (res) => {
        if (!res) return status('not sent: no answer from the server (check your balance before trying again)', 'failed');
        const answer = (await res.json().catch(() => ({}))) as { balance?: number; error?: { code: string; message: string } };
        if (res.status === 201 && answer.balance !== undefined) {
          showBalance(answer.balance);
          return status('sent', 'sent');
        }
        const balance = res.headers.get('x-balance');
        if (balance !== null) showBalance(Number(balance));
        if (res.status === 401) signedOut('session expired: paste a new token');
        return status(answer.error?.message ?? `refused (${res.status})`, answer.error?.code ?? 'failed');
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = ($('token') as HTMLInputElement).value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    token = value;
    void signedIn();
  });
  if (token) void signedIn();
  else signedOut();
}
if (config.giftsUrl) startGifts(config.giftsUrl);
