import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { ConsumerDefinition } from '@onair/contracts';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Messaging } from './connection';
import { ensureConsumer } from './ensure';
import { consumerMetrics, registerLagGauge } from './metrics';

/** Given to a batch handler to give up on single messages without failing the batch. */
export interface BatchContext {
  /**
   * Publishes the message to the dead-letter subject with `reason`, then terms it so it is never
   * redelivered. Use it for messages that can never be processed (bad payload), not for outages.
   */
  deadLetter(msg: JsMsg, reason: string): Promise<void>;
}

export interface BatchConsumerOptions {
  messaging: Messaging;
  definition: ConsumerDefinition;
  /** Subject dead letters go to. */
  deadLetterSubject: string;
  logger: Logger;
  registry: Registry;
  /** Most messages handed to one handler call. */
  maxBatch: number;
  /** Longest wait, in ms, after a batch's first message for more to arrive before handling it anyway. */
  maxWaitMs: number;
  /** Batches handled at the same time by this replica; the next batch is gathered while one is written. */
  concurrency: number;
  /**
   * Handles a batch. Resolving acks every message not already dead-lettered. Throwing naks them all
   * with a delay growing with their delivery count, so they stay in the stream and come back later.
   */
  handle(batch: JsMsg[], context: BatchContext): Promise<void>;
}

export interface BatchConsumer {
  /** Stops gathering, waits for batches in flight to finish and settles what was gathered but not handled. */
  stop(): Promise<void>;
  /** Resolves when the loop has ended (after `stop()`, or on a fatal error, which it rethrows). */
  readonly done: Promise<void>;
}

/** Redelivery delay after a failed batch: 1 s, 2 s, 4 s … capped at 30 s. */
export function retryDelayMs(deliveryCount: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, Math.min(deliveryCount - 1, 10)));
}

/**
 * A durable pull consumer read in batches. Any number of replicas may run it on the same durable: the
 * server hands each message to one of them. Missing consumers (deleted by an operator, or a JetStream
 * restart losing it) are created again, and missed heartbeats are counted and logged; nats.js renews its
 * pull requests by itself.
 */
export async function startBatchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer> {
  const { messaging, definition, logger } = options;
  const name = definition.durable;
  const log = logger.child({ consumer: name, stream: definition.stream });
  const metrics = consumerMetrics(options.registry);

  await ensureConsumer(messaging.jsm, definition);
  registerLagGauge(options.registry, name, async () => {
    const info = await messaging.jsm.consumers.info(definition.stream, name);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  });

  const consumer = await messaging.js.consumers.get(definition.stream, name);
  // Keep enough buffered for the batches in flight plus the one being gathered, within the server's cap.
  const buffered = Math.min(definition.maxAckPending, options.maxBatch * (options.concurrency + 1));
  // 10 s pulls (5 s heartbeats) notice a lost consumer or server within seconds, at negligible cost.
  const messages: ConsumerMessages = await consumer.consume({ max_messages: buffered, expires: 10_000 });

  void watchStatus(messages);
  async function watchStatus(stream: ConsumerMessages) {
    for await (const status of stream.status()) {
      if (status.type === 'heartbeats_missed') {
        metrics.heartbeatsMissed.labels(name).inc();
        log.warn({ count: status.count }, 'consumer heartbeats missed');
      } else if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
        log.warn({ status: status.type }, 'consumer missing: creating it again');
        try {
          await ensureConsumer(messaging.jsm, definition);
          metrics.recreated.labels(name).inc();
        } catch (error) {
          log.error({ err: error }, 'could not recreate consumer; will retry on the next notice');
        }
      }
    }
  }

  const context: BatchContext = {
    async deadLetter(msg, reason) {
      const record = {
        consumer: name,
        stream: definition.stream,
        streamSeq: msg.info.streamSequence,
        subject: msg.subject,
        reason,
        payload: msg.string(),
        failedAt: new Date().toISOString(),
      };
      // msgID makes a repeated dead-lettering (crash between publish and term) store one record.
      await messaging.js.publish(options.deadLetterSubject, JSON.stringify(record), {
        msgID: `${definition.stream}:${name}:${msg.info.streamSequence}`,
      });
      msg.term(reason);
      settled.add(msg);
      metrics.messages.labels(name, 'term').inc();
      log.warn({ seq: msg.info.streamSequence, subject: msg.subject, reason }, 'message dead-lettered');
    },
  };
  const settled = new WeakSet<JsMsg>();

  async function handleBatch(batch: JsMsg[]) {
    metrics.batchSize.labels(name).observe(batch.length);
    const stopTimer = metrics.handleSeconds.labels(name).startTimer();
    try {
      await options.handle(batch, context);
      let acked = 0;
      for (const msg of batch) {
        if (settled.has(msg)) continue;
        msg.ack();
        acked++;
      }
      metrics.messages.labels(name, 'ack').inc(acked);
    } catch (error) {
      let naked = 0;
      for (const msg of batch) {
        if (settled.has(msg)) continue;
        msg.nak(retryDelayMs(msg.info.deliveryCount));
        naked++;
      }
      metrics.messages.labels(name, 'nak').inc(naked);
      log.error({ err: error, messages: naked }, 'batch failed: messages will be redelivered');
    } finally {
      stopTimer();
    }
  }

  // Messages are gathered by a pump: a batch is handed over when it is full, or when its first
  // message has waited maxWaitMs. At most `concurrency` batches are in flight; while all slots are
  // busy the pump stops reading, and nats.js stops pulling once its buffer is full.
  const inFlight = new Set<Promise<void>>();
  let batch: JsMsg[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushWhenFree = false;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    if (inFlight.size >= options.concurrency) {
      flushWhenFree = true;
      return;
    }
    const taken = batch;
    batch = [];
    const work: Promise<void> = handleBatch(taken).finally(() => {
      inFlight.delete(work);
      if (flushWhenFree) {
        flushWhenFree = false;
        flush();
      }
    });
    inFlight.add(work);
  };

  async function loop() {
    for await (const msg of messages) {
      batch.push(msg);
      if (batch.length >= options.maxBatch) flush();
      else timer ??= setTimeout(flush, options.maxWaitMs);
      while (inFlight.size >= options.concurrency || batch.length >= options.maxBatch) {
        await Promise.race(inFlight);
      }
    }
    // The iterator ends on stop(): what was gathered is still handled (written and acked).
    flushWhenFree = false;
    while (batch.length > 0) {
      flush();
      if (batch.length > 0) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
  }

  const done = loop();
  log.info({ maxBatch: options.maxBatch, maxWaitMs: options.maxWaitMs, concurrency: options.concurrency }, 'consuming');

  return {
    done,
    async stop() {
      // Ends the iterator; messages nats.js buffered but never yielded are redelivered after ack_wait.
      await messages.close();
      await done;
    },
  };
}
