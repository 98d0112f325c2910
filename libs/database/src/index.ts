export { createDb, dropDatabase, ensureDatabaseExists } from './connect';
export type { DatabaseOptions, Db } from './connect';
export { migrateToLatest } from './migrate';
export { dropMonthlyPartitionsBefore, ensureMonthlyPartition, ensureMonthlyPartitions, monthStart, partitionName } from './partitions';
export type { MonthlyTable } from './partitions';
export { insertChatMessages } from './sql/insert-chat-messages';
export { copyChatMessages } from './sql/copy-chat-messages';
export type { ChatRow } from './chat-row';
export type { ChatMessagesTable, Database } from './schema';
