export { createKickClient, KICK_MAX_IDS_PER_CALL } from './client';
export type { KickClient, KickClientOptions } from './client';
export type { KickChannel, KickUser } from './parse';
export type { BreakerState } from './breaker';
export { KickApiError, KickAuthError, KickUnavailableError } from './errors';
export type { KickApiFailure } from './errors';
