import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type Pusher from 'pusher';
import type { PlatformEvent, Topology } from '@onair/contracts';
import { publishStored, type Messaging } from '@onair/messaging';
import { HttpError, type Logger } from '@onair/service-kit';
import { Counter, type Registry } from 'prom-client';
import { createCoalescer } from './coalescer';
import { parseRoomId } from '@onair/contracts';

/** The four webhook events Soketi (and Pusher) send about channel occupancy and presence members. */
export const PRESENCE_WEBHOOK_EVENTS = ['channel_occupied', 'channel_vacated', 'member_added', 'member_removed'] as const;

/** A room's audience as the Pusher server counts it now, published as `presence.count` on the events stream. */
export interface PresenceCount {
  channel: string;
  occupied: boolean;
  /** Sockets subscribed to the channel. */
  subscriptions: number;
  /** Distinct signed-in users (presence channels only). */
  users?: number;
}

interface WebhookBody {
  time_ms: number;
  events: Array<{ name: string; channel: string; user_id?: string }>;
}

/** `room-<id>` or `presence-room-<id>` → the room; other channels are not rooms. */
export function roomOfChannel(channel: string): { platform: string; channelId: string } | undefined {
  const match = /^(?:presence-)?room-(.+)$/.exec(channel);
  return match ? parseRoomId(match[1]!) : undefined;
}

/**
 * Soketi's webhooks become live audience counts on NATS. A webhook says only that something changed, and
 * replicas each see some of them, so the count is read back from the Pusher server's channel API — the
 * one place that knows — at most once per channel per `windowMs`, however fast members come and go.
 */
export function registerPresenceWebhooks(
  app: FastifyInstance,
  options: {
    pusher: Pick<Pusher, 'get'>;
    appKey: string;
    appSecret: string;
    messaging: Messaging;
    topology: Topology;
    registry: Registry;
    logger: Logger;
    windowMs: number;
  },
): { flushAll(): Promise<void> } {
  const received = new Counter({
    name: 'gateway_presence_webhooks_total',
    help: 'Pusher-server webhooks by outcome: accepted or refused (bad signature, bad body).',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  const published = new Counter({
    name: 'gateway_presence_counts_total',
    help: 'Room audience counts read from the Pusher server and published on NATS.',
    registers: [options.registry],
  });
  const secret = Buffer.from(options.appSecret);

  const counts = createCoalescer<true>({
    windowMs: options.windowMs,
    async send(channel) {
      const room = roomOfChannel(channel)!;
      const response = await options.pusher.get({ path: `/channels/${channel}`, params: { info: 'subscription_count,user_count' } });
      const info = (await response.json()) as { occupied?: boolean; subscription_count?: number; user_count?: number };
      const count: PresenceCount = {
        channel,
        occupied: Boolean(info.occupied),
        subscriptions: info.subscription_count ?? 0,
        ...(info.user_count !== undefined ? { users: info.user_count } : {}),
      };
      const event: PlatformEvent = {
        platform: room.platform as PlatformEvent['platform'],
        eventId: `presence-${randomUUID()}`,
        type: 'presence.count',
        channelId: room.channelId,
        receivedAt: new Date().toISOString(),
        data: count,
      };
      // A count is a snapshot, not a fact to keep once: every reading gets its own id.
      await publishStored(options.messaging, options.topology.events.subject(room.platform, room.channelId, 'presence.count'), JSON.stringify(event), event.eventId);
      published.inc();
    },
  });

  app.register(async (scope) => {
    // The signature covers the exact bytes: keep this route's body raw.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post('/pusher/webhooks', async (request, reply) => {
      const key = request.headers['x-pusher-key'];
      const signature = request.headers['x-pusher-signature'];
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (key !== options.appKey || typeof signature !== 'string' || !validSignature(raw, signature, secret)) {
        received.labels('refused').inc();
        throw new HttpError(401, 'invalid_signature', 'X-Pusher-Key / X-Pusher-Signature do not match this app');
      }
      let body: WebhookBody;
      try {
        body = JSON.parse(raw.toString('utf8')) as WebhookBody;
      } catch {
        received.labels('refused').inc();
        throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
      }
      if (!body || !Array.isArray(body.events) || body.events.some((e) => typeof e?.name !== 'string' || typeof e.channel !== 'string')) {
        received.labels('refused').inc();
        throw new HttpError(422, 'validation_failed', 'A webhook body is { time_ms, events: [{ name, channel }] }');
      }
      received.labels('accepted').inc();
      const channels = new Set(
        body.events
          .filter((e) => (PRESENCE_WEBHOOK_EVENTS as readonly string[]).includes(e.name) && roomOfChannel(e.channel))
          .map((e) => e.channel),
      );
      // Answered once the counts are on NATS, so a failure shows up in Soketi's logs and our metrics.
      try {
        await Promise.all([...channels].map((channel) => counts.add(channel, true)));
      } catch (error) {
        options.logger.warn({ err: error }, 'presence count could not be read or published');
        throw new HttpError(503, 'unavailable', 'Presence count could not be published');
      }
      return reply.code(200).send({ ok: true, channels: channels.size });
    });
  });
  return { flushAll: () => counts.flushAll() };
}

function validSignature(raw: Buffer, signature: string, secret: Buffer): boolean {
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
