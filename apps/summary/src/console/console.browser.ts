/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The operators' console, bundled for the browser by routes.ts. No framework: one page, hash routes
 * (`#/streamers/:id[/:day]`, `#/audit`, `#/jobs`), the /v1 API through the session cookie (writes carry
 * the CSRF token sign-in answered), and the chat tail through @onair/room-client against the gateway.
 */
import Pusher from 'pusher-js';
import { createRoomFeed, jitterReconnects, type ChatItem, type RoomFeed } from '@onair/room-client';
import type { Static } from '@sinclair/typebox';
import type { listAudit } from '../audit/sql/list-audit';
import type { getStreamer } from '../read-api/sql/get-streamer';
import type { listStreamers } from '../read-api/sql/list-streamers';
import type { JobsResponse, RerunResponse, SubscriptionsResponse, SummariesResponse, ViewersResponse } from '../read-api/schemas';

interface Config {
  gatewayUrl: string | null;
}
interface Session {
  actor: string;
  role: 'admin' | 'operator';
  csrfToken: string;
  expiresAt: string;
}
// The answers' shapes come from the server's own definitions (type-only imports: nothing of the server
// is bundled), so the page and the API cannot drift apart unnoticed by `tsc`.
type StreamerListItem = Awaited<ReturnType<typeof listStreamers>>['items'][number];
type Streamer = NonNullable<Awaited<ReturnType<typeof getStreamer>>>;
type ViewerSeries = Static<typeof ViewersResponse>['series'][number];
type Summary = Static<typeof SummariesResponse>['items'][number];
type SubscriptionHealth = Static<typeof SubscriptionsResponse>['channels'][number];
type AuditEntry = Awaited<ReturnType<typeof listAudit>>['items'][number];
type JobRun = Static<typeof JobsResponse>['items'][number];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const config = JSON.parse($('console-config').textContent!) as Config;
let session: Session | null = null;
const isAdmin = () => session?.role === 'admin';

// ------------------------------------------------------------------------------------------- DOM helpers
type Child = Node | string | number | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(typeof child === 'number' ? String(child) : child);
  return el;
}
const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Array<Node | string>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}
const number = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits }));
const utc = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–');
/** "chat 5 min ago": the kind of the newest activity, when the API names it, and how long ago. */
function activity(item: { lastActivityAt?: string | null; lastActivity?: { kind: string } | null }): string {
  const when = ago(item.lastActivityAt ?? null);
  return item.lastActivity && item.lastActivityAt ? `${item.lastActivity.kind} ${when}` : when;
}
function ago(iso: string | null): string {
  if (!iso) return 'no activity yet';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

// ------------------------------------------------------------------------------------------------- API
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers['x-csrf-token'] = session.csrfToken;
  const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (response.status === 401 && !path.startsWith('/console/session')) showLogin('Your session ended. Sign in again.');
  if (!response.ok) throw new ApiError(response.status, data.error?.code ?? 'error', data.error?.message ?? `HTTP ${response.status}`);
  return data as T;
}

// ------------------------------------------------------------------------------------------ sign in/out
function showLogin(message = '') {
  session = null;
  closeFeed();
  document.body.dataset['state'] = 'signed-out';
  for (const id of ['nav', 'who', 'streamers-view', 'audit-view', 'jobs-view']) $(id).hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $<HTMLInputElement>('login-token').focus();
}

function signedIn(s: Session) {
  session = s;
  document.body.dataset['state'] = 'signed-in';
  document.body.dataset['role'] = s.role;
  $('login').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = `${s.actor} (${s.role})`;
  for (const el of document.querySelectorAll<HTMLElement>('[data-admin]')) el.hidden = !isAdmin();
  void route();
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('login-token');
  $('login-error').textContent = '';
  api<Session>('POST', '/console/session', { token: input.value.trim() })
    .then((s) => {
      input.value = '';
      signedIn(s);
    })
    .catch((error: unknown) => {
      $('login-error').textContent = error instanceof ApiError ? error.message : 'Sign-in failed';
    });
});

$('sign-out').addEventListener('click', () => {
  void api('DELETE', '/console/session').finally(() => {
    list.items = [];
    showLogin('Signed out.');
  });
});

// ---------------------------------------------------------------------------------------------- routes
async function route() {
  if (!session) return;
  const [section = 'streamers', id, day] = location.hash.replace(/^#\/?/, '').split('/');
  const admin = isAdmin();
  const current = (section === 'audit' || section === 'jobs') && admin ? section : 'streamers';
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (link.dataset['section'] === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  $('streamers-view').hidden = current !== 'streamers';
  $('audit-view').hidden = current !== 'audit';
  $('jobs-view').hidden = current !== 'jobs';
  if (current === 'audit') return loadAudit(true);
  if (current === 'jobs') return loadJobs(true);
  const selected = id && /^\d+$/.test(id) ? Number(id) : null;
  if (!list.loaded) await loadList();
  else markSelection(selected);
  $('streamers-view').classList.toggle('has-selection', selected !== null);
  if (selected === null) {
    closeFeed();
    $('detail').replaceChildren(h('p', { class: 'muted' }, 'Select a streamer.'));
  } else {
    await showDetail(selected, day && /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : null);
  }
}
window.addEventListener('hashchange', () => void route());

// ------------------------------------------------------------------------------------------ the list
const PAGE = 50;
const list = { q: '', offset: 0, total: 0, items: [] as StreamerListItem[], loaded: false, seq: 0 };

function selectedId(): number | null {
  const [section, id] = location.hash.replace(/^#\/?/, '').split('/');
  return (section ?? 'streamers') === 'streamers' && id && /^\d+$/.test(id) ? Number(id) : null;
}

async function loadList() {
  const seq = ++list.seq;
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(list.offset), sort: 'last_activity' });
  if (list.q) query.set('q', list.q);
  try {
    const page = await api<{ total: number; items: StreamerListItem[] }>('GET', `/v1/streamers?${query}`);
    if (seq !== list.seq) return; // a newer search answered first
    list.items = page.items;
    list.total = page.total;
    list.loaded = true;
    renderList();
  } catch (error) {
    if (seq === list.seq) $('streamer-list').replaceChildren(h('li', { class: 'error' }, error instanceof Error ? error.message : 'Could not load streamers'));
  }
}

function renderList() {
  const selected = selectedId();
  const items = list.items.map((st) =>
    h(
      'li',
      {},
      h(
        'a',
        { href: `#/streamers/${st.id}`, 'data-id': String(st.id), 'aria-current': st.id === selected ? 'true' : undefined },
        h('span', { class: 'name' }, st.displayName),
        h('span', { class: `badge ${st.status}` }, st.status),
        h('span', { class: 'when' }, `${st.channels.map((c) => `${c.platform}/${c.slug}`).join(', ') || 'no channel'} · ${activity(st)}`),
      ),
    ),
  );
  $('streamer-list').replaceChildren(...(items.length ? items : [h('li', { class: 'muted', style: 'padding:.75rem' }, list.q ? 'No streamer matches.' : 'No streamers yet.')]));
  const from = list.total === 0 ? 0 : list.offset + 1;
  $('page-info').textContent = `${number(from)}–${number(list.offset + list.items.length)} of ${number(list.total)}`;
  $<HTMLButtonElement>('prev-page').disabled = list.offset === 0;
  $<HTMLButtonElement>('next-page').disabled = list.offset + list.items.length >= list.total;
}

function markSelection(selected: number | null) {
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#streamer-list a')) {
    if (Number(link.dataset['id']) === selected) link.setAttribute('aria-current', 'true');
    else link.removeAttribute('aria-current');
  }
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    list.q = $<HTMLInputElement>('search').value.trim();
    list.offset = 0;
    void loadList();
  }, 200);
});
$('search').addEventListener('keydown', (event) => {
  if (event.key === 'ArrowDown') {
    event.preventDefault();
    document.querySelector<HTMLAnchorElement>('#streamer-list a')?.focus();
  }
});
// Arrow keys walk the list; Enter (a link) opens the streamer.
$('streamer-list').addEventListener('keydown', (event) => {
  const links = [...document.querySelectorAll<HTMLAnchorElement>('#streamer-list a')];
  const at = links.indexOf(document.activeElement as HTMLAnchorElement);
  const to = event.key === 'ArrowDown' ? at + 1 : event.key === 'ArrowUp' ? at - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? links.length - 1 : null;
  if (to === null || at === -1) return;
  event.preventDefault();
  if (to < 0) $('search').focus();
  else links[Math.min(to, links.length - 1)]?.focus();
});
$('prev-page').addEventListener('click', () => {
  list.offset = Math.max(0, list.offset - PAGE);
  void loadList();
});
$('next-page').addEventListener('click', () => {
  list.offset += PAGE;
  void loadList();
});

$('add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('add-slug');
  const slug = input.value.trim();
  const status = $('add-status');
  status.className = '';
  status.textContent = `Adding ${slug}…`;
  api<Streamer & { subscriptions: { state: string; wanted: number; present: number | null } }>('POST', '/v1/streamers', { platform: 'kick', slug })
    .then(async (streamer) => {
      input.value = '';
      status.className = 'ok';
      const subs = streamer.subscriptions;
      status.textContent = `${streamer.displayName} added; webhooks ${subs.state === 'complete' ? `subscribed (${subs.present}/${subs.wanted})` : 'pending (the reconcile job completes them)'}.`;
      list.q = '';
      $<HTMLInputElement>('search').value = '';
      list.offset = 0;
      await loadList();
      location.hash = `#/streamers/${streamer.id}`;
    })
    .catch((error: unknown) => {
      status.className = 'error';
      status.textContent = error instanceof ApiError ? `${error.message} (${error.code})` : 'Could not add the streamer';
    });
});

// ------------------------------------------------------------------------------------------ the detail
let detailSeq = 0;

async function showDetail(id: number, day: string | null) {
  const seq = ++detailSeq;
  const detail = $('detail');
  let streamer: Streamer;
  try {
    streamer = await api<Streamer>('GET', `/v1/streamers/${id}`);
  } catch (error) {
    if (seq !== detailSeq) return;
    closeFeed();
    detail.replaceChildren(backLink(), h('p', { class: 'error' }, error instanceof ApiError && error.status === 404 ? `No streamer ${id} (or it is not assigned to you).` : 'Could not load the streamer.'));
    return;
  }
  if (seq !== detailSeq) return;

  const liveChannel = streamer.channels.find((c) => c.live);
  const probe = liveChannel?.latestProbe ?? streamer.channels[0]?.latestProbe ?? null;
  const actions = h('div', { class: 'row' });
  if (streamer.status !== 'archived') {
    const paused = streamer.status === 'suspended';
    actions.append(
      button(paused ? 'Resume' : 'Pause', paused ? 'Probing and webhooks start again' : 'Probing and webhooks stop', () =>
        api('PATCH', `/v1/streamers/${id}`, { paused: !paused }),
      ),
    );
    if (isAdmin()) {
      const remove = button('Remove', 'Unsubscribe and stop probing; history is kept', () => api('DELETE', `/v1/streamers/${id}`), () => confirm(`Remove ${streamer.displayName}? History is kept.`));
      remove.classList.add('danger');
      actions.append(remove);
    }
  }
  const notes = h('textarea', { id: 'notes', 'aria-label': 'Notes', maxlength: '2000' }) as HTMLTextAreaElement;
  notes.value = streamer.notes;
  const notesForm = h('form', { class: 'row', 'aria-label': 'Notes' }, notes, h('button', { type: 'submit' }, 'Save notes'));
  notesForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void api('PATCH', `/v1/streamers/${id}`, { notes: notes.value }).then(() => flash(notesForm, 'saved'), (error: unknown) => flash(notesForm, errorText(error), true));
  });

  const dayInput = h('input', { type: 'date', id: 'chart-day', 'aria-label': 'Day of the viewers chart' }) as HTMLInputElement;
  const viewersBox = h('div', { id: 'viewers' }, h('p', { class: 'muted' }, 'Loading viewers…'));
  const summariesBox = h('div', { id: 'summaries' }, h('p', { class: 'muted' }, 'Loading summaries…'));
  const healthBox = h('div', { id: 'health' }, h('p', { class: 'muted' }, 'Loading…'));
  const chat = h('ul', { id: 'chat-tail', 'aria-label': 'Live chat', 'aria-live': 'off' });
  const chatNote = h('small', { id: 'chat-status' });

  detail.replaceChildren(
    backLink(),
    h('div', { class: 'row' }, h('h2', {}, streamer.displayName), h('span', { class: `badge ${streamer.status}` }, streamer.status), liveChannel ? h('span', { class: 'badge live', id: 'live-state' }, 'LIVE') : h('span', { class: 'badge', id: 'live-state' }, 'offline')),
    h(
      'p',
      {},
      probe
        ? `${probe.isLive ? `${number(probe.viewerCount)} viewers` : 'offline'} at the last probe (${utc(probe.ts)} UTC)${probe.title ? ` · ${probe.title}` : ''}${probe.category ? ` · ${probe.category}` : ''}`
        : 'Not probed yet.',
      h('br'),
      h('small', {}, `Channels: ${streamer.channels.map((c) => `${c.platform}/${c.slug} (${c.platformUserId})`).join(', ') || 'none'} · added ${utc(streamer.createdAt)} UTC · last activity: ${activity(streamer)}`),
    ),
    actions,
    h('h3', {}, 'Viewers per minute'),
    h('div', { class: 'row' }, dayInput, h('small', { id: 'viewers-caption' })),
    viewersBox,
    h('h3', {}, 'Last 30 days'),
    summariesBox,
    h('h3', {}, 'Webhooks'),
    healthBox,
    h('h3', {}, 'Live chat'),
    chatNote,
    chat,
    h('h3', {}, 'Notes'),
    notesForm,
  );
  dayInput.addEventListener('change', () => {
    if (dayInput.value) location.hash = `#/streamers/${id}/${dayInput.value}`;
  });

  openChatTail(streamer, chat, chatNote);
  void loadHealth(id, healthBox, seq);
  // The viewers answer names the day (the server's today when none was chosen); the 30 days end there.
  try {
    const viewers = await api<Static<typeof ViewersResponse>>('GET', `/v1/streamers/${id}/viewers${day ? `?day=${day}` : ''}`);
    if (seq !== detailSeq) return;
    dayInput.value = viewers.day;
    viewersBox.replaceChildren(viewersChart(viewers.day, viewers.series));
    const peak = Math.max(0, ...viewers.series.flatMap((se) => se.points.map((p) => p.viewers ?? 0)));
    $('viewers-caption').textContent = `UTC day ${viewers.day} · peak ${number(peak)}`;
    await loadSummaries(id, viewers.day, summariesBox, seq);
  } catch (error) {
    if (seq === detailSeq) viewersBox.replaceChildren(h('p', { class: 'error' }, errorText(error)));
  }
}

function backLink() {
  return h('a', { href: '#/streamers', class: 'back' }, '‹ Streamers');
}

function errorText(error: unknown) {
  return error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : 'Failed';
}

function flash(where: HTMLElement, text: string, bad = false) {
  const note = where.querySelector('.flash') ?? where.appendChild(h('small', { class: 'flash', role: 'status' }));
  note.className = `flash ${bad ? 'error' : 'ok'}`;
  note.textContent = text;
}

/** A button that runs a write, then reloads the list and the streamer (unless `ask` says no). */
function button(label: string, title: string, run: () => Promise<unknown>, ask?: () => boolean) {
  const b = h('button', { type: 'button', title }, label);
  b.addEventListener('click', () => {
    if (ask && !ask()) return;
    b.disabled = true;
    run()
      .then(async () => {
        await loadList();
        await route();
      })
      .catch((error: unknown) => {
        b.disabled = false;
        flash(b.parentElement!, errorText(error), true);
      });
  });
  return b;
}

const COLORS = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c'];

/** Viewers per minute of one UTC day as an SVG line per channel; a gap of more than 2 minutes breaks the line. */
function viewersChart(day: string, series: ViewerSeries[]): SVGElement {
  const W = 720;
  const H = 220;
  const L = 48;
  const B = 24;
  const T = 10;
  const R = 24;
  const start = Date.parse(`${day}T00:00:00Z`);
  const points = series.reduce((n, se) => n + se.points.filter((p) => p.viewers !== null).length, 0);
  const max = Math.max(1, ...series.flatMap((se) => se.points.map((p) => p.viewers ?? 0)));
  const top = niceCeiling(max);
  const x = (minute: number) => L + (minute / 1440) * (W - L - R);
  const y = (v: number) => T + (1 - v / top) * (H - T - B);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id: 'viewers-chart', role: 'img', 'data-points': points, 'aria-label': `Viewers per minute on ${day}: ${points} probe minutes, peak ${max}` });
  const grid = s('g', { class: 'grid' });
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    grid.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }), s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, number(v, top < 4 ? 2 : 0)));
  }
  for (let hour = 0; hour <= 24; hour += 3) {
    grid.append(s('line', { x1: x(hour * 60), x2: x(hour * 60), y1: T, y2: H - B }), s('text', { x: x(hour * 60), y: H - 6, 'text-anchor': 'middle' }, `${String(hour).padStart(2, '0')}:00`));
  }
  svg.append(grid);
  if (points === 0) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'No probes on this day'));
    return svg;
  }
  series.forEach((se, i) => {
    let d = '';
    let last = -Infinity;
    for (const p of se.points) {
      if (p.viewers === null) {
        last = -Infinity;
        continue;
      }
      const minute = (Date.parse(p.at) - start) / 60_000;
      d += `${minute - last > 2 ? 'M' : 'L'}${x(minute).toFixed(1)} ${y(p.viewers).toFixed(1)} `;
      last = minute;
    }
    const color = COLORS[i % COLORS.length]!;
    svg.append(s('path', { d: d.trim(), class: 'series', stroke: color }, s('title', {}, `${se.platform}/${se.slug}`)));
    // A stream minutes old is a few pixels of line on a day's axis: mark each minute so it shows.
    const live = se.points.filter((p) => p.viewers !== null);
    if (live.length <= 180) {
      for (const p of live) svg.append(s('circle', { cx: x((Date.parse(p.at) - start) / 60_000).toFixed(1), cy: y(p.viewers!).toFixed(1), r: 2.5, fill: color }));
    }
  });
  return svg;
}

function niceCeiling(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

async function loadSummaries(id: number, day: string, box: HTMLElement, seq: number) {
  const from = addDays(day, -29);
  const page = await api<{ items: Summary[] }>('GET', `/v1/summaries?streamerId=${id}&from=${from}&to=${day}&limit=200`);
  if (seq !== detailSeq) return;
  const byDay = new Map<string, { viewerHours: number; peak: number }>();
  for (const r of page.items) {
    const d = byDay.get(r.day) ?? { viewerHours: 0, peak: 0 };
    d.viewerHours += r.viewerHours;
    d.peak = Math.max(d.peak, r.peakViewers);
    byDay.set(r.day, d);
  }
  const W = 720;
  const H = 160;
  const L = 48;
  const B = 22;
  const T = 8;
  const max = niceCeiling(Math.max(1, ...[...byDay.values()].map((d) => d.viewerHours)));
  const slot = (W - L - 10) / 30;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id: 'summaries-chart', role: 'img', 'data-days': byDay.size, 'aria-label': `Viewer hours per day, ${from} to ${day}: ${byDay.size} days with a summary` });
  const grid = s('g', { class: 'grid' });
  for (let i = 0; i <= 2; i++) {
    const v = (max / 2) * i;
    const yy = T + (1 - v / max) * (H - T - B);
    grid.append(s('line', { x1: L, x2: W - 10, y1: yy, y2: yy }));
    if (byDay.size > 0) grid.append(s('text', { x: L - 6, y: yy + 4, 'text-anchor': 'end' }, number(v, 1)));
  }
  svg.append(grid);
  for (let i = 0; i < 30; i++) {
    const d = addDays(from, i);
    const value = byDay.get(d);
    if (i % 5 === 0 || i === 29) svg.append(s('text', { x: L + i * slot + slot / 2, y: H - 6, 'text-anchor': 'middle' }, d.slice(5)));
    if (!value) continue;
    const height = (value.viewerHours / max) * (H - T - B);
    svg.append(s('rect', { class: 'bar', x: L + i * slot + 1, y: H - B - height, width: Math.max(1, slot - 2), height }, s('title', {}, `${d}: ${number(value.viewerHours, 1)} viewer hours, peak ${number(value.peak)}`)));
  }
  if (byDay.size === 0) svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'No daily summaries in these 30 days'));
  const rows = page.items.map((r) =>
    h(
      'tr',
      {},
      h('td', {}, r.day),
      h('td', {}, r.slug),
      h('td', { class: 'num' }, number(r.liveMinutes)),
      h('td', { class: 'num' }, number(r.peakViewers)),
      h('td', { class: 'num' }, number(r.avgViewers, 1)),
      h('td', { class: 'num' }, number(r.viewerHours, 1)),
      h('td', { class: 'num' }, number(r.chatMessages)),
      h('td', { class: 'num' }, number(r.uniqueChatters)),
      h('td', { class: 'num' }, number(r.gifts ?? null)),
      h('td', { class: 'num' }, number(r.giftCoins ?? null)),
    ),
  );
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'summaries-table' },
      h('thead', {}, h('tr', {}, ...['Day', 'Channel', 'Live min', 'Peak', 'Avg', 'Viewer h', 'Chat', 'Chatters', 'Gifts', 'Coins'].map((t, i) => h('th', { class: i > 1 ? 'num' : undefined }, t)))),
      h('tbody', {}, ...rows),
    ),
  );
  box.replaceChildren(svg, table);
}

async function loadHealth(id: number, box: HTMLElement, seq: number) {
  try {
    const health = await api<Static<typeof SubscriptionsResponse>>('GET', `/v1/streamers/${id}/subscriptions`);
    if (seq !== detailSeq) return;
    if (health.channels.length === 0) {
      box.replaceChildren(h('p', { class: 'muted' }, 'No Kick channel.'));
      return;
    }
    const rows = health.channels.map((c) =>
      h(
        'tr',
        {},
        h('td', {}, `${c.platform}/${c.slug}`),
        h('td', {}, h('span', { class: `badge ${c.healthy ? 'healthy' : 'unhealthy'}` }, c.healthy ? 'healthy' : c.silentSince ? 'silent' : c.wanted === null ? 'unchecked' : 'drift')),
        h('td', { class: 'num' }, c.wanted === null ? '–' : `${number(c.present)}/${number(c.wanted)}`),
        h('td', {}, utc(c.checkedAt)),
        h('td', {}, utc(c.silentSince)),
        h('td', { class: 'num' }, number(c.resubscribeCount)),
        h('td', {}, c.drift[0] ? `${utc(c.drift[0].at)} ${c.drift[0].source}: ${c.drift[0].missing.length} missing, ${c.drift[0].strays.length} strays` : 'none'),
      ),
    );
    box.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'health-table' },
          h('thead', {}, h('tr', {}, ...['Channel', 'Health', 'Subscribed', 'Checked (UTC)', 'Silent since', 'Resubscribed', 'Last drift'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...rows),
        ),
      ),
    );
  } catch (error) {
    if (seq === detailSeq) box.replaceChildren(h('p', { class: 'error' }, errorText(error)));
  }
}

// ------------------------------------------------------------------------------------------- chat tail
let pusher: Promise<Pusher> | undefined;
let feed: RoomFeed | undefined;

function closeFeed() {
  feed?.close();
  feed = undefined;
}

function connectPusher(gatewayUrl: string): Promise<Pusher> {
  pusher ??= fetch(`${gatewayUrl}/v1/client-config`)
    .then((r) => (r.ok ? (r.json() as Promise<{ pusher: { key: string; wsHost: string; wsPort: number; forceTLS: boolean } }>) : Promise.reject(new Error(`client config ${r.status}`))))
    .then(({ pusher: p }) => {
      const client = new Pusher(p.key, { cluster: 'mt1', wsHost: p.wsHost, wsPort: p.wsPort, wssPort: p.wsPort, forceTLS: p.forceTLS, enabledTransports: ['ws', 'wss'], disableStats: true });
      jitterReconnects(client, { maxDelayMs: 3_000 });
      client.connection.bind('state_change', ({ current }: { current: string }) => {
        document.body.dataset['chat'] = current;
      });
      return client;
    })
    .catch((error: unknown) => {
      pusher = undefined;
      throw error;
    });
  return pusher;
}

/** The newest 50 messages of the streamer's (first) Kick channel, then live, through the gateway's room feed. */
function openChatTail(streamer: Streamer, list: HTMLElement, note: HTMLElement) {
  closeFeed();
  const channel = streamer.channels.find((c) => c.platform === 'kick') ?? streamer.channels[0];
  if (!config.gatewayUrl || !channel) {
    note.textContent = config.gatewayUrl ? 'No channel.' : 'The chat tail needs CONSOLE_GATEWAY_URL.';
    return;
  }
  const roomId = channel.platform === 'kick' ? `kick-${channel.platformUserId}` : channel.slug;
  note.textContent = `room ${roomId}`;
  const gatewayUrl = config.gatewayUrl.replace(/\/$/, '');
  const forStreamer = streamer.id;
  void connectPusher(gatewayUrl).then(
    (client) => {
      if (selectedId() !== forStreamer) return;
      feed = createRoomFeed({
        pusher: client,
        roomId,
        gatewayUrl,
        history: 50,
        keep: 200,
        onChange: (messages: readonly ChatItem[]) => {
          const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
          list.replaceChildren(...messages.map((m) => h('li', { 'data-seq': String(m.seq) }, h('b', {}, m.sender.name), ` ${m.content}`)));
          if (atBottom) list.scrollTop = list.scrollHeight;
        },
        onError: () => {
          note.textContent = `room ${roomId} · history unavailable, retried on reconnect`;
        },
      });
    },
    () => {
      note.textContent = 'The gateway did not answer; no chat tail.';
    },
  );
}

// ------------------------------------------------------------------------------------------ audit, jobs
let auditCursor: string | null = null;
async function loadAudit(fresh: boolean) {
  if (fresh) {
    auditCursor = null;
    $('audit-rows').replaceChildren();
  }
  const page = await api<{ items: AuditEntry[]; nextCursor: string | null }>('GET', `/v1/audit?limit=50${auditCursor ? `&cursor=${auditCursor}` : ''}`);
  auditCursor = page.nextCursor;
  $('audit-rows').append(
    ...page.items.map((e) =>
      h(
        'tr',
        {},
        h('td', {}, utc(e.at)),
        h('td', {}, e.actor),
        h('td', {}, e.action),
        h('td', {}, e.target.type === 'streamer' ? h('a', { href: `#/streamers/${e.target.id}` }, `streamer ${e.target.id}`) : `${e.target.type} ${e.target.id}`),
        h('td', { class: 'error-text', style: 'color:inherit' }, describeChange(e.before, e.after)),
      ),
    ),
  );
  $<HTMLButtonElement>('audit-more').hidden = !auditCursor;
}
$('audit-more').addEventListener('click', () => void loadAudit(false));

function describeChange(before: unknown, after: unknown): string {
  if (before === null || typeof before !== 'object') return after && typeof after === 'object' ? 'created' : '';
  const a = (after ?? {}) as Record<string, unknown>;
  const b = before as Record<string, unknown>;
  const changed = Object.keys({ ...a, ...b }).filter((k) => k !== 'updatedAt' && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return changed.map((k) => `${k}: ${JSON.stringify(b[k])} → ${JSON.stringify(a[k])}`).join('; ');
}

let jobsCursor: string | null = null;
async function loadJobs(fresh: boolean) {
  if (fresh) {
    jobsCursor = null;
    $('job-rows').replaceChildren();
    const day = $<HTMLInputElement>('rerun-day');
    if (!day.value) day.value = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  }
  const status = $<HTMLSelectElement>('jobs-status').value;
  const query = new URLSearchParams({ limit: '50' });
  if (status) query.set('status', status);
  if (jobsCursor) query.set('cursor', jobsCursor);
  const page = await api<{ items: JobRun[]; nextCursor: string | null }>('GET', `/v1/jobs?${query}`);
  jobsCursor = page.nextCursor;
  $('job-rows').append(
    ...page.items.map((j) =>
      h(
        'tr',
        { class: j.status === 'failed' ? 'failed' : undefined },
        h('td', {}, utc(j.startedAt)),
        h('td', {}, j.name),
        h('td', {}, j.periodKey),
        h('td', {}, h('span', { class: `badge ${j.status}` }, j.status)),
        h('td', { class: 'num' }, j.attempt),
        h('td', { class: 'num' }, j.durationMs === null ? '–' : `${number(j.durationMs)} ms`),
        h('td', {}, j.worker),
        h('td', { class: 'error-text' }, j.error ?? ''),
      ),
    ),
  );
  $<HTMLButtonElement>('jobs-more').hidden = !jobsCursor;
}
$('jobs-more').addEventListener('click', () => void loadJobs(false));
$('jobs-status').addEventListener('change', () => void loadJobs(true));
// One Idempotency-Key per rerun the operator means: a second click, or a resubmit after a network error,
// of the same day and choice is the same rerun (one run, one message); a changed form or a queued answer
// starts a new one. getRandomValues, not randomUUID: the latter exists only on https or localhost.
let rerunKey: string | null = null;
const newRerunKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
for (const id of ['rerun-day', 'rerun-notify']) $(id).addEventListener('change', () => (rerunKey = null));
$('rerun-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const day = $<HTMLInputElement>('rerun-day').value;
  const notify = $<HTMLInputElement>('rerun-notify').checked;
  const status = $('rerun-status');
  status.className = '';
  status.textContent = 'Queuing…';
  rerunKey ??= newRerunKey();
  const key = rerunKey;
  api<Static<typeof RerunResponse>>('POST', '/v1/summaries/rerun', { day, notify }, { 'idempotency-key': key })
    .then(async (queued) => {
      if (rerunKey === key) rerunKey = null;
      status.className = 'ok';
      status.textContent = `Queued ${queued.day}${queued.notify ? ' with its message' : ''} (${queued.jobKey}).`;
      await loadJobs(true);
    })
    .catch((error: unknown) => {
      status.className = 'error';
      status.textContent = errorText(error);
    });
});

// ----------------------------------------------------------------------------------------------- start
api<Session>('GET', '/console/session').then(signedIn, () => showLogin());
