import { describe, expect, it } from 'vitest';
import type { DailySummary } from './daily-summary';
import { formatDailySummaryMessage } from './format-message';

const row = (channelId: number, over: Partial<DailySummary>): DailySummary => ({
  day: '2026-11-23',
  channelId,
  viewerHours: 0,
  liveMinutes: 0,
  streams: 0,
  peakViewers: 0,
  avgViewers: 0,
  chatMessages: 0,
  uniqueChatters: 0,
  gifts: 0,
  giftCoins: 0,
  source: 'postgres',
  ...over,
});

const rows = [
  row(1, { viewerHours: 300, liveMinutes: 120, streams: 1, peakViewers: 200, avgViewers: 150, chatMessages: 5, uniqueChatters: 3 }),
  row(2, { viewerHours: 97.9333, liveMinutes: 160, streams: 2, peakViewers: 77, avgViewers: 36.73, chatMessages: 4, uniqueChatters: 2 }),
  row(3, { chatMessages: 1, uniqueChatters: 1 }),
  row(4, { viewerHours: 1_234.5, liveMinutes: 1_440, streams: 1, peakViewers: 1_500, avgViewers: 51.44, chatMessages: 12_000, uniqueChatters: 800 }),
];

describe('formatDailySummaryMessage', () => {
  it('gives totals and the top channels by viewer hours', () => {
    expect(formatDailySummaryMessage('2026-11-23', rows, new Map([[1, 'Alpha'], [2, 'Beta']]), { top: 2 })).toBe(
      [
        'Daily summary 2026-11-23 (UTC)',
        'Live: 3 of 4 channels, 1,632.4 viewer hours, 28h 40m live, 4 streams',
        'Chat: 12,010 messages',
        '',
        'Top 2 by viewer hours:',
        '1. channel 4: 1,234.5 h, peak 1,500, avg 51, 24h 0m live, 1 stream, 12,000 messages from 800 chatters',
        '2. Alpha: 300.0 h, peak 200, avg 150, 2h 0m live, 1 stream, 5 messages from 3 chatters',
        '…and 1 more live channel.',
      ].join('\n'),
    );
  });

  it('says so when nobody was live or nothing was recorded', () => {
    expect(formatDailySummaryMessage('2026-11-23', [rows[2]!], new Map())).toBe(
      'Daily summary 2026-11-23 (UTC)\nLive: 0 of 1 channels, 0.0 viewer hours, 0m live, 0 streams\nChat: 1 message\nNo channel was live.',
    );
    expect(formatDailySummaryMessage('2026-11-23', [], new Map())).toBe('Daily summary 2026-11-23 (UTC)\nNo probes or chat recorded.');
  });

  it('adds gifts when there were any', () => {
    const text = formatDailySummaryMessage('2026-11-23', [row(1, { viewerHours: 3, liveMinutes: 60, streams: 1, peakViewers: 9, avgViewers: 3, gifts: 4, giftCoins: 1_250 })], new Map([[1, 'Alpha']]));
    expect(text).toContain('\nGifts: 4 gifts, 1,250 coins\n');
    expect(text).toContain('1 stream, 0 messages from 0 chatters, 4 gifts (1,250 coins)');
  });

  it('stays under Telegram’s 4,096 characters with many channels', () => {
    const many = Array.from({ length: 5_000 }, (_, i) => row(i + 1, { viewerHours: i, liveMinutes: 60, streams: 1 }));
    const names = new Map(many.map((r) => [r.channelId, 'x'.repeat(100)]));
    expect(formatDailySummaryMessage('2026-11-23', many, names).length).toBeLessThan(4_096);
  });
});
