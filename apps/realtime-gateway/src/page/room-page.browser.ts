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
