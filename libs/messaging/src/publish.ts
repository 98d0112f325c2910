import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import type { Messaging } from './connection';
import { PublishUnavailableError } from './errors';

export interface PublishResult {
  /** Stream sequence of the stored message (of the first copy, for a duplicate). */
  seq: number;
  /** True when the stream already held a message with this msgID inside its duplicate window. */
  duplicate: boolean;
}

/**
 * Publishes and waits for the PubAck, so a returned result means the message is stored. `msgID` makes a
 * retry idempotent. Any failure is a PublishUnavailableError: the caller answers "try again", never "ok".
 */
export async function publishStored(
  messaging: Messaging,
  subject: string,
  payload: Uint8Array | string,
  msgID: string,
  timeoutMs?: number,
): Promise<PublishResult> {
  // While disconnected, nats.js would queue the publish in memory and the ack would time out anyway;
  // refusing now answers the client in microseconds instead of seconds.
  if (!messaging.connected) {
    throw new PublishUnavailableError('disconnected', 'NATS is not connected');
  }
  await nextTurn();
  try {
    const ack = await messaging.js.publish(subject, payload, {
      msgID,
      ...(timeoutMs ? { timeout: timeoutMs } : {}),
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (error) {
    throw classifyPublishError(error);
  }
}

/**
 * Resolves on the next event-loop turn, all waiters together. nats.js writes to its socket once per
 * microtask checkpoint, and each HTTP request runs in its own I/O callback: publishing at once costs
 * one write syscall per message. Waiting for the turn lets every request that arrived in one poll
 * publish in one write (measured: 3.1k → 5.1k publishes/s through HTTP on the 2-core machine), for a
 * delay of well under a millisecond.
 */
let turn: Promise<void> | undefined;
function nextTurn(): Promise<void> {
  turn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    }),
  );
  return turn;
}

function classifyPublishError(error: unknown): PublishUnavailableError {
  if (error instanceof JetStreamApiError) {
    const text = error.message.toLowerCase();
    if (text.includes('maximum') || text.includes('exceeded') || text.includes('storage')) {
      return new PublishUnavailableError('stream_full', 'stream is full', { cause: error });
    }
    return new PublishUnavailableError('rejected', 'JetStream refused the message', { cause: error });
  }
  if (error instanceof natsErrors.TimeoutError) {
    return new PublishUnavailableError('timeout', 'no PubAck in time', { cause: error });
  }
  if (error instanceof JetStreamError || error instanceof natsErrors.NoRespondersError) {
    return new PublishUnavailableError('rejected', 'JetStream is not available', { cause: error });
  }
  return new PublishUnavailableError('disconnected', 'NATS is not available', { cause: error });
}
