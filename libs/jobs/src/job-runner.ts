import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { compileValidator, jobConsumer, JobRequest, type Topology } from '@onair/contracts';
import { ensureConsumer, publishStored, registerLagGauge, retryDelayMs, type Messaging } from '@onair/messaging';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Schedule } from './schedule';
import { finishRun, hasSucceeded, startRun } from './sql/job-runs';

/** What a running job can do besides its work. */
export interface JobContext {
  periodKey: string;
  scheduledFor: Date;
  /** 1 for the first delivery, then 2, 3 … */
  attempt: number;
  /** Tells the server the job is alive, resetting its ack_wait. Sent automatically too. */
  working(): void;
  logger: Logger;
}

export interface JobDefinition {
  /** Stable name: the subject token, the consumer name and the job_runs key. */
  name: string;
  /** When the tick enqueues it. Absent: on demand only (`enqueue`), e.g. an operator's rerun. */
  schedule?: Schedule;
  /** The period an occurrence covers, e.g. the previous UTC day. Default: the occurrence's ISO time. */
  periodKey?: (occurrence: Date) => string;
  run(context: JobContext): Promise<void>;
  /** How long a worker may be silent before the job is handed to another, in ms. Default 60 s. */
  ackWaitMs?: number;
  /** Attempts before the job is given up (failure counted, alert fires). Default 5. */
  maxAttempts?: number;
}

export interface JobRunnerOptions {
  messaging: Messaging;
  topology: Topology;
  db: Kysely<any>;
  jobs: JobDefinition[];
  /** This worker's name in job_runs. */
  worker: string;
  logger: Logger;
  registry: Registry;
  /**
   * The clock every due period, period key and job_runs time is read from. Required: the composition
   * root passes the wall clock, tests pass their own instant (a default would let a test read the calendar).
   */
  now: () => Date;
}

export interface JobRunner {
  /** Enqueues every job whose latest occurrence has no success yet. Every replica calls it. */
  tick(): Promise<void>;
  /** Requests a run of `name` for `periodKey` (backfill, manual rerun of a failed period). */
  enqueue(name: string, periodKey: string, scheduledFor?: Date): Promise<{ duplicate: boolean }>;
  /** Starts consuming every job's requests. */
  start(): Promise<void>;
  /** Stops taking requests; a job in progress finishes first. */
  stop(): Promise<void>;
}

const requestValidator = compileValidator(JobRequest);

/**
 * Durable jobs on JetStream and Postgres, no other infrastructure. Every replica's tick enqueues a job's
 * due period with msgID `<name>:<period>`, so N replicas enqueue it once. Each job has its own durable
 * consumer with max_ack_pending 1, so it runs at most once at a time across the cluster; a worker that
 * dies mid-run stops sending progress heartbeats and the request is redelivered after ack_wait. job_runs
 * records each attempt; a request for a period that already succeeded is acknowledged without running.
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { now } = options;
  const byName = new Map(options.jobs.map((job) => [job.name, job]));
  const metrics = jobMetrics(options.registry);
  const running: Array<{ messages: ConsumerMessages; done: Promise<void> }> = [];
  const periodKeyOf = (job: JobDefinition, occurrence: Date) => job.periodKey?.(occurrence) ?? occurrence.toISOString();

  async function enqueue(name: string, periodKey: string, scheduledFor = now()) {
    if (!byName.has(name)) throw new Error(`unknown job ${name}`);
    const request: JobRequest = { name, periodKey, scheduledFor: scheduledFor.toISOString() };
    const { duplicate } = await publishStored(options.messaging, options.topology.jobs.subject(name), JSON.stringify(request), `${name}:${periodKey}`);
    return { duplicate };
  }

  async function handle(job: JobDefinition, msg: JsMsg) {
    const log = options.logger.child({ job: job.name });
    if (!requestValidator.check(msg.json())) {
      log.error({ seq: msg.info.streamSequence }, 'malformed job request: dropped');
      msg.term('malformed job request');
      return;
    }
    const request = msg.json<JobRequest>();
    if (await hasSucceeded(options.db, job.name, request.periodKey)) {
      msg.ack();
      return;
    }
    const attempt = msg.info.deliveryCount;
    const maxAttempts = job.maxAttempts ?? 5;
    const runId = await startRun(options.db, { name: job.name, periodKey: request.periodKey, attempt, worker: options.worker, startedAt: now() });
    // A heartbeat on a connection that is gone throws; the redelivery it leads to is the intended outcome.
    const heartbeat = setInterval(() => {
      try {
        msg.working();
      } catch {
        // nothing to do: the server will hand the job to another worker after ack_wait
      }
    }, Math.max(1_000, (job.ackWaitMs ?? 60_000) / 3));
    const stopTimer = metrics.duration.labels(job.name).startTimer();
    log.info({ periodKey: request.periodKey, attempt }, 'job started');
    try {
      await job.run({
        periodKey: request.periodKey,
        scheduledFor: new Date(request.scheduledFor),
        attempt,
        working: () => msg.working(),
        logger: log,
      });
      await finishRun(options.db, runId, { status: 'succeeded', finishedAt: now() });
      msg.ack();
      metrics.runs.labels(job.name, 'succeeded').inc();
      metrics.lastSuccess.labels(job.name).set(now().getTime() / 1000);
      log.info({ periodKey: request.periodKey, attempt }, 'job succeeded');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await finishRun(options.db, runId, { status: 'failed', finishedAt: now(), error: message }).catch(() => undefined);
      metrics.runs.labels(job.name, 'failed').inc();
      if (attempt >= maxAttempts) {
        metrics.exhausted.labels(job.name).inc();
        msg.term(`failed ${attempt} times: ${message}`);
        log.error({ err: error, periodKey: request.periodKey, attempt }, 'job failed for the last time: giving up');
      } else {
        msg.nak(retryDelayMs(attempt));
        log.warn({ err: error, periodKey: request.periodKey, attempt }, 'job failed: will retry');
      }
    } finally {
      clearInterval(heartbeat);
      stopTimer();
    }
  }

  let starting: Promise<void> | undefined;
  let stopping = false;
  return {
    async tick() {
      for (const job of options.jobs) {
        if (!job.schedule) continue;
        const occurrence = job.schedule.latest(now());
        const periodKey = periodKeyOf(job, occurrence);
        if (await hasSucceeded(options.db, job.name, periodKey)) continue;
        await enqueue(job.name, periodKey, occurrence);
      }
    },
    enqueue,
    start() {
      starting = (async () => {
        for (const job of options.jobs) {
          // A SIGTERM during start: create no more consumers, so none races the draining connection.
          if (stopping) return;
          const definition = jobConsumer(options.topology, job.name, {
            ackWaitMs: job.ackWaitMs ?? 60_000,
            // The server's own limit sits above ours, so the last attempt is still ours to term and count.
            maxDeliver: (job.maxAttempts ?? 5) + 1,
          });
          await ensureConsumer(options.messaging.jsm, definition);
          // consumer_pending_messages{consumer="job-<name>"}: a request nobody takes is the OnairJobQueued alert.
          registerLagGauge(options.registry, definition.durable, async () => {
            const info = await options.messaging.jsm.consumers.info(definition.stream, definition.durable);
            return { pending: info.num_pending, ackPending: info.num_ack_pending };
          });
          const consumer = await options.messaging.js.consumers.get(definition.stream, definition.durable);
          const messages = await consumer.consume({ max_messages: 1, expires: 10_000 });
          const done = (async () => {
            for await (const msg of messages) {
              try {
                await handle(job, msg);
              } catch (error) {
                // Postgres unreachable while recording, or NATS gone: the request comes back either way
                // (nak now, or ack_wait later when the connection is lost).
                options.logger.error({ err: error, job: job.name }, 'job bookkeeping failed: request will be redelivered');
                try {
                  msg.nak(5_000);
                } catch {
                  // connection closed: ack_wait redelivers it
                }
              }
            }
          })();
          running.push({ messages, done });
        }
      })();
      return starting;
    },
    async stop() {
      stopping = true;
      await starting?.catch(() => undefined);
      for (const { messages } of running) await messages.close();
      await Promise.all(running.map((r) => r.done));
    },
  };
}

function jobMetrics(registry: Registry) {
  return {
    runs: new Counter({
      name: 'jobs_runs_total',
      help: 'Job attempts by job and outcome (succeeded, failed).',
      labelNames: ['job', 'status'],
      registers: [registry],
    }),
    exhausted: new Counter({
      name: 'jobs_failed_total',
      help: 'Jobs given up after their last attempt: the alert rule reads this.',
      labelNames: ['job'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'job_duration_seconds',
      help: 'Duration of job attempts, in seconds.',
      labelNames: ['job'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'job_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run, by job.',
      labelNames: ['job'],
      registers: [registry],
    }),
  };
}
