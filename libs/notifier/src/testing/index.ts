export { startFakeTelegram } from './fake-telegram';
export type { FakeTelegram, FakeTelegramFault, FakeTelegramMessage, FakeTelegramOptions, FakeTelegramRequest, HeldAnswer } from './fake-telegram';
