export { idSetKey, sendOnce } from './send-once';
export type { SendOnceDeps, SendOnceRequest, SendOnceResult } from './send-once';
export { releaseUnknownSends } from './sql/telegram-sends';
