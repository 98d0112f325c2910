import { isCalendarDay } from '@onair/service-kit';

/** The on-demand job that recomputes (and optionally announces) one day for an operator. */
export const RERUN_JOB = 'daily-summary-rerun';
/** telegram_sends kind of a rerun's message: apart from the scheduled `daily-summary` sends. */
export const RERUN_SEND_KIND = 'daily-summary-rerun';

/** One operator request to rerun a day. */
export interface RerunRequest {
  day: string;
  notify: boolean;
  /** A fresh UUID per HTTP request: what makes two requests two runs and two messages. */
  requestId: string;
}

const KEY = /^(\d{4}-\d{2}-\d{2})\/(notify|store)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The job's period key, `<day>/<notify|store>/<request id>` (54 characters; JobRequest allows 64). It is
 * the whole request, so the job needs nothing else; being unique per request, the runner's msgID
 * `<job>:<key>` and its one-success-per-period rule make each request run to success once, and every
 * retry of it (redelivery, crash) sees the same key.
 */
export function rerunPeriodKey(request: RerunRequest): string {
  return `${request.day}/${request.notify ? 'notify' : 'store'}/${request.requestId}`;
}

/** The request a period key carries; undefined for anything `rerunPeriodKey` did not make. */
export function parseRerunPeriodKey(periodKey: string): RerunRequest | undefined {
  const match = KEY.exec(periodKey);
  if (!match || !isCalendarDay(match[1]!)) return undefined;
  return { day: match[1]!, notify: match[2] === 'notify', requestId: match[3]! };
}
