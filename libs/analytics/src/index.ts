export { connectAnalytics, connectAnalyticsInBackground, dropAnalyticsDatabase } from './client';
export type { Analytics, AnalyticsOptions } from './client';
export { migrateAnalytics } from './migrations';
export { insertAnalyticsChatRows } from './chat-messages';
export type { AnalyticsChatRow } from './chat-messages';
export { insertAnalyticsProbes } from './probes';
export type { AnalyticsProbeRow } from './probes';
