import { ChatMessage, compileValidator, PlatformEvent, type Topology } from '@onair/contracts';
import { publishStored, PublishUnavailableError, type Messaging } from '@onair/messaging';
import { HttpError } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';

/**
 * Stores chat and platform events in JetStream and reports whether the id was a duplicate; throws an
 * HttpError 503 when it cannot store. Each message is checked against the same contract its consumers
 * check before it is published: a message ingest answers 202 for is never one every consumer dead-letters.
 */
export interface Publisher {
  chat(message: ChatMessage, msgID: string): Promise<{ duplicate: boolean }>;
  event(event: PlatformEvent, msgID: string): Promise<{ duplicate: boolean }>;
}

const chatValidator = compileValidator(ChatMessage);
const eventValidator = compileValidator(PlatformEvent);

export function createPublisher(messaging: Messaging, topology: Topology, registry: Registry, timeoutMs: number): Publisher {
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

  async function store(kind: 'chat' | 'event', subject: string, payload: unknown, msgID: string) {
    try {
      const result = await publishStored(messaging, subject, JSON.stringify(payload), msgID, timeoutMs);
      published.labels(kind, String(result.duplicate)).inc();
      return { duplicate: result.duplicate };
    } catch (error) {
      if (!(error instanceof PublishUnavailableError)) throw error;
      refused.labels(error.reason).inc();
      throw new HttpError(503, 'unavailable', 'Message could not be stored; retry with the same id', {
        cause: error,
        headers: { 'retry-after': error.reason === 'stream_full' ? '30' : '2' },
      });
    }
  }

  return {
    chat(message, msgID) {
      if (!chatValidator.check(message)) {
        throw new HttpError(422, 'validation_failed', `Message breaks the chat contract: ${chatValidator.firstError(message)}`);
      }
      return store('chat', topology.chat.subject(message.platform, message.channelId), message, msgID);
    },
    event(event, msgID) {
      if (!eventValidator.check(event)) {
        throw new HttpError(422, 'validation_failed', `Event breaks the event contract: ${eventValidator.firstError(event)}`);
      }
      return store('event', topology.events.subject(event.platform, event.channelId, event.type), event, msgID);
    },
  };
}
