import { startBatchConsumer, type BatchConsumer, type BatchConsumerOptions } from './batch-consumer';

/** The batch consumers of one service, started one by one (some later, e.g. once ClickHouse answers) and stopped together. */
export interface ConsumerSet {
  /** Starts a consumer, unless the set is already stopping (then it does nothing). */
  start(options: BatchConsumerOptions): Promise<void>;
  /** Waits for consumers still being created, then stops every consumer: batches in flight finish first. */
  stop(): Promise<void>;
}

/**
 * Why a set and not an array: a SIGTERM can arrive while a consumer is still being created. Stopping only
 * the consumers already started would let that creation run on into a draining connection and crash the
 * process ("connection closed") instead of exiting cleanly, so stop waits for creations in flight.
 */
export function createConsumerSet(): ConsumerSet {
  const started: BatchConsumer[] = [];
  const creating = new Set<Promise<unknown>>();
  let stopping = false;
  return {
    async start(options) {
      if (stopping) return;
      const creation = startBatchConsumer(options).then((consumer) => {
        started.push(consumer);
      });
      creating.add(creation);
      try {
        await creation;
      } finally {
        creating.delete(creation);
      }
    },
    async stop() {
      stopping = true;
      await Promise.allSettled([...creating]);
      await Promise.all(started.map((consumer) => consumer.stop()));
    },
  };
}
