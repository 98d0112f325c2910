export { createTelegramNotifier } from './notifier';
export type { Notifier, SendOptions, SendResult, TelegramNotifierOptions } from './notifier';
export { NotifierError } from './errors';
export type { NotifierErrorCode } from './errors';
export { splitMessage, TELEGRAM_MAX_MESSAGE_LENGTH } from './split';
