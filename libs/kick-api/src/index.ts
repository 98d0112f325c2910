export { createKickClient, KICK_MAX_IDS_PER_CALL, kickClientFromConfig } from './client';
export { createKickChatSender, KICK_CHAT_MAX } from './chat';
export type { KickChatSender, KickChatSenderOptions } from './chat';
export type { KickClient, KickClientOptions } from './client';
export type { KickChannel, KickCreatedSubscription, KickEventSubscription, KickUser } from './parse';
export type { BreakerState } from './breaker';
export { KickApiError, KickAuthError, KickUnavailableError } from './errors';
export type { KickApiFailure } from './errors';
