export { startFakeTelegram } from './fake-telegram';
export type { FakeTelegram, FakeTelegramFault, FakeTelegramMessage, FakeTelegramOptions, FakeTelegramRequest } from './fake-telegram';
