export { createJobRunner } from './job-runner';
export type { JobContext, JobDefinition, JobRunner, JobRunnerOptions } from './job-runner';
export { daily, everyMinutes, hourly, previousUtcDay } from './schedule';
export type { Schedule } from './schedule';
