export { connectAnalytics, connectAnalyticsInBackground, dropAnalyticsDatabase } from './client';
export type { Analytics, AnalyticsOptions } from './client';
export { migrateAnalytics } from './migrations';
export { analyticsChatRow, insertAnalyticsChatRows } from './chat-messages';
export type { AnalyticsChatRow, ChatFields } from './chat-messages';
export { insertAnalyticsProbes } from './probes';
export type { AnalyticsProbeRow } from './probes';
