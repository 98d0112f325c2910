import type { DailySummary } from './daily-summary';

export interface FormatOptions {
  /** Channels listed by viewer hours; the rest count only in the totals. Keeps the message well under Telegram's 4,096 characters. */
  top?: number;
}

const hours = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * The day's summary as plain text for Telegram's `sendMessage` (no parse mode, so names need no escaping):
 * totals, then the top channels by viewer hours. `names` maps `streamer_channels.id` to what to call it;
 * a missing name shows as `channel <id>`. Unique chatters are per channel only: one person chatting in
 * two channels would be counted twice by a sum.
 */
export function formatDailySummaryMessage(
  day: string,
  rows: readonly DailySummary[],
  names: ReadonlyMap<number, string>,
  options: FormatOptions = {},
): string {
  const top = options.top ?? 10;
  const lines = [`Daily summary ${day} (UTC)`];
  if (rows.length === 0) return [...lines, 'No probes or chat recorded.'].join('\n');

  const live = rows.filter((r) => r.liveMinutes > 0);
  const sum = (pick: (r: DailySummary) => number) => rows.reduce((total, r) => total + pick(r), 0);
  lines.push(
    `Live: ${live.length} of ${rows.length} channels, ${hours.format(sum((r) => r.viewerHours))} viewer hours, ` +
      `${duration(sum((r) => r.liveMinutes))} live, ${plural(sum((r) => r.streams), 'stream')}`,
    `Chat: ${plural(sum((r) => r.chatMessages), 'message')}`,
  );
  const gifts = sum((r) => r.gifts);
  if (gifts > 0) lines.push(`Gifts: ${plural(gifts, 'gift')}, ${plural(sum((r) => r.giftCoins), 'coin')}`);
  if (live.length === 0) return [...lines, 'No channel was live.'].join('\n');

  const ranked = [...live].sort((a, b) => b.viewerHours - a.viewerHours || a.channelId - b.channelId).slice(0, top);
  lines.push('', `Top ${ranked.length} by viewer hours:`);
  ranked.forEach((r, i) => {
    const name = names.get(r.channelId) ?? `channel ${r.channelId}`;
    lines.push(
      `${i + 1}. ${name}: ${hours.format(r.viewerHours)} h, peak ${whole.format(r.peakViewers)}, ` +
        `avg ${whole.format(r.avgViewers)}, ${duration(r.liveMinutes)} live, ${plural(r.streams, 'stream')}, ` +
        `${plural(r.chatMessages, 'message')} from ${plural(r.uniqueChatters, 'chatter')}` +
        (r.gifts > 0 ? `, ${plural(r.gifts, 'gift')} (${plural(r.giftCoins, 'coin')})` : ''),
    );
  });
  if (live.length > ranked.length) lines.push(`…and ${plural(live.length - ranked.length, 'more live channel')}.`);
  return lines.join('\n');
}

function plural(n: number, noun: string): string {
  return `${whole.format(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** Minutes as `2h 40m` (or `40m`). */
function duration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${whole.format(h)}h ${m}m` : `${m}m`;
}
