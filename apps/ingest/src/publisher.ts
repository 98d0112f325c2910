import { publishStored, PublishUnavailableError, type Messaging } from '@onair/messaging';
import { HttpError } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';

/** Stores a message in JetStream and reports whether it was a duplicate; throws an HttpError 503 when it cannot. */
export type Publish = (subject: string, payload: unknown, msgID: string) => Promise<{ duplicate: boolean }>;

export function createPublisher(messaging: Messaging, registry: Registry, timeoutMs: number): Publish {
  const published = new Counter({
    name: 'ingest_published_total',
    help: 'Messages stored in JetStream, by stream kind and whether it was a duplicate.',
    labelNames: ['kind', 'duplicate'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'ingest_publish_unavailable_total',
    help: 'Publishes JetStream could not take (answered 503), by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  return async (subject, payload, msgID) => {
    try {
      const result = await publishStored(messaging, subject, JSON.stringify(payload), msgID, timeoutMs);
      published.labels(subject.includes('chat.msg.') ? 'chat' : 'event', String(result.duplicate)).inc();
      return { duplicate: result.duplicate };
    } catch (error) {
      if (!(error instanceof PublishUnavailableError)) throw error;
      refused.labels(error.reason).inc();
      throw new HttpError(503, 'unavailable', 'Message could not be stored; retry with the same id', {
        cause: error,
        headers: { 'retry-after': error.reason === 'stream_full' ? '30' : '2' },
      });
    }
  };
}
