import { describe, expect, it } from 'vitest';
import { claimBudget, createClaimLog } from './fair-share';

describe('claimBudget', () => {
  it('is the even share of the minute, rounded up, less what this replica claimed in it', () => {
    expect(claimBudget({ minuteOfWork: 200, overdue: 0, replicas: 1, claimedLastMinute: 0 })).toBe(200);
    expect(claimBudget({ minuteOfWork: 200, overdue: 0, replicas: 3, claimedLastMinute: 0 })).toBe(67);
    expect(claimBudget({ minuteOfWork: 200, overdue: 0, replicas: 2, claimedLastMinute: 60 })).toBe(40);
    expect(claimBudget({ minuteOfWork: 200, overdue: 0, replicas: 2, claimedLastMinute: 130 })).toBe(0);
  });

  it('lets overdue channels through whatever the share', () => {
    expect(claimBudget({ minuteOfWork: 200, overdue: 25, replicas: 2, claimedLastMinute: 130 })).toBe(25);
  });
});

describe('createClaimLog', () => {
  it('sums the claims of the last 60 s', () => {
    const log = createClaimLog();
    const t = Date.parse('2026-11-23T12:00:00Z');
    log.add(new Date(t), 10);
    log.add(new Date(t + 30_000), 5);
    expect(log.lastMinute(new Date(t + 59_999))).toBe(15);
    expect(log.lastMinute(new Date(t + 60_000))).toBe(5);
    expect(log.lastMinute(new Date(t + 90_000))).toBe(0);
  });
});
