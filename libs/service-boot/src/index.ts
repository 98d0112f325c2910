export { bootService } from './boot-service';
export type { BootConfig, BootedService, BootOptions, PostgresBootOptions, ShutdownPlan } from './boot-service';
export { connectClickHouseInBackground } from './clickhouse';
export type { ClickHouseBootOptions } from './clickhouse';
