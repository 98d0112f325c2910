import { describe, expect, it } from 'vitest';
import { toDailySummaries, type DailyAggregate } from './daily-summary';
import { utcDay } from './day';

const aggregate = (over: Partial<DailyAggregate>): DailyAggregate => ({
  channelId: 1,
  liveProbes: 0,
  viewerSum: 0,
  peakViewers: 0,
  streams: 0,
  chatMessages: 0,
  uniqueChatters: 0,
  ...over,
});

describe('toDailySummaries', () => {
  it('rounds half up exactly, where a float would not', () => {
    // 201 / 200 = 1.005 → 1.01 (1.005 is 1.00499… as a double: Math.round and toFixed say 1.00);
    // 5,876 / 160 = 36.725 → 36.73 (ClickHouse's round() on Float64 says 36.72).
    const rows = toDailySummaries(
      '2026-11-23',
      [aggregate({ channelId: 3, liveProbes: 160, viewerSum: 5_876 }), aggregate({ channelId: 2, liveProbes: 200, viewerSum: 201 })],
      1,
      'postgres',
    );
    expect(rows).toMatchObject([
      { channelId: 2, avgViewers: 1.01, viewerHours: 3.35 }, // 201 / 60 = 3.35
      { channelId: 3, avgViewers: 36.73, viewerHours: 97.9333 }, // 5,876 / 60 = 97.93333…
    ]);
  });

  it('multiplies by the cadence and never divides by zero live probes', () => {
    const [row] = toDailySummaries('2026-11-23', [aggregate({ liveProbes: 0, chatMessages: 4, uniqueChatters: 2 })], 5, 'clickhouse');
    expect(row).toEqual({
      day: '2026-11-23', channelId: 1, viewerHours: 0, liveMinutes: 0, streams: 0, peakViewers: 0, avgViewers: 0,
      chatMessages: 4, uniqueChatters: 2, gifts: 0, giftCoins: 0, source: 'clickhouse',
    });
    const [live] = toDailySummaries('2026-11-23', [aggregate({ liveProbes: 12, viewerSum: 1_200 })], 5, 'postgres');
    expect(live).toMatchObject({ viewerHours: 100, liveMinutes: 60, avgViewers: 100 }); // 1,200 × 5 / 60
    expect(() => toDailySummaries('2026-11-23', [], 0, 'postgres')).toThrow(RangeError);
  });
});

describe('utcDay', () => {
  it('is the half-open UTC range of a calendar day', () => {
    expect(utcDay('2026-03-29')).toEqual({
      day: '2026-03-29',
      from: new Date('2026-03-29T00:00:00Z'),
      to: new Date('2026-03-30T00:00:00Z'),
    });
  });

  it.each(['2026-02-29', '2026-13-01', '2026-1-01', '2026-11-23T00:00:00Z', ''])('refuses %j', (day) => {
    expect(() => utcDay(day)).toThrow(expect.objectContaining({ code: 'invalid_day' }));
  });
});
