import type Pusher from 'pusher';
import { Counter, type Registry } from 'prom-client';

/** One Pusher event: the channel, the event name and its JSON payload (≤ 10 KB). */
export interface PusherEvent {
  channel: string;
  name: string;
  data: string;
}

/** What the queue needs of a Pusher-compatible server's HTTP API (the `pusher` SDK has it). */
export type PusherBatchApi = Pick<Pusher, 'triggerBatch'>;

/**
 * Sends events through the Pusher HTTP API's batch trigger: events queued in the same event-loop turn
 * (from any rooms) go out together, at most 10 per request as the API allows, so many quiet rooms cost
 * far fewer HTTP calls than events. Resolves each event's promise when its request succeeded.
 *
 * Requests run in parallel, except that a channel's events go out in the order they were queued: a request
 * holding a channel starts after the earlier requests holding it have answered. A room's events split over
 * two racing requests could reach the Pusher server newest first, and a socket subscribing between them would
 * keep the older one as the room's last (see coalescer.ts).
 */
export function createTriggerQueue(pusher: PusherBatchApi, registry: Registry) {
  const triggers = new Counter({
    name: 'gateway_triggers_total',
    help: 'Pusher HTTP batch-trigger requests, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const events = new Counter({
    name: 'gateway_events_total',
    help: 'Events sent to the Pusher server, by event name.',
    labelNames: ['event'],
    registers: [registry],
  });
  let queue: Array<{ event: PusherEvent; resolve(): void; reject(error: unknown): void }> = [];
  let scheduled = false;
  /** Per channel, the last request holding it that has not answered yet. */
  const lastRequest = new Map<string, Promise<unknown>>();

  const drain = async () => {
    scheduled = false;
    const taken = queue;
    queue = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < taken.length; i += 10) {
      const chunk = taken.slice(i, i + 10);
      const channels = [...new Set(chunk.map(({ event }) => event.channel))];
      const before = channels.flatMap((channel) => lastRequest.get(channel) ?? []);
      const request = (before.length > 0 ? Promise.all(before) : Promise.resolve()).then(() =>
        pusher.triggerBatch(chunk.map(({ event }) => ({ channel: event.channel, name: event.name, data: event.data }))),
      );
      const answered = request.then(
        () => undefined,
        () => undefined,
      );
      for (const channel of channels) lastRequest.set(channel, answered);
      void answered.then(() => {
        for (const channel of channels) if (lastRequest.get(channel) === answered) lastRequest.delete(channel);
      });
      sends.push(
        request
          .then(
            () => {
              triggers.labels('ok').inc();
              for (const { event, resolve } of chunk) {
                events.labels(event.name).inc();
                resolve();
              }
            },
            (error: unknown) => {
              triggers.labels('failed').inc();
              for (const { reject } of chunk) reject(error);
            },
          ),
      );
    }
    await Promise.all(sends);
  };

  return {
    send(event: PusherEvent): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ event, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => void drain());
        }
      });
    },
  };
}

export type TriggerQueue = ReturnType<typeof createTriggerQueue>;
