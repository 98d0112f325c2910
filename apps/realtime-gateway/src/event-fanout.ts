import { compileValidator, PlatformEvent, ProbeResult, roomChannel } from '@onair/contracts';
import { decodeBatch, type BatchContext, type JsMsg } from '@onair/messaging';
import type { PusherEvent, TriggerQueue } from './trigger-queue';

const eventValidator = compileValidator(PlatformEvent);
const probeValidator = compileValidator(ProbeResult);

/** Browser event name for each platform event type we show; others are not fanned out. */
const EVENT_NAMES: Record<string, string> = {
  'kicks.gifted': 'gift',
  // First-party gifts, published by the gifts service once their coins moved.
  'gift.sent': 'gift',
  'channel.subscription.new': 'gift',
  'channel.subscription.renewal': 'gift',
  'channel.subscription.gifts': 'gift',
  'channel.followed': 'follow',
  'livestream.status.updated': 'live',
  'livestream.metadata.updated': 'room-state',
  'moderation.banned': 'room-state',
  // LiveKit's webhooks, verified and stored by ingest: who is on stage in a first-party room.
  'livekit.room_started': 'room-state',
  'livekit.room_finished': 'room-state',
  'livekit.participant_joined': 'room-state',
  'livekit.participant_left': 'room-state',
  'livekit.track_published': 'room-state',
  'livekit.track_unpublished': 'room-state',
  // Audience counts the gateway reads from the Pusher server after its webhooks.
  'presence.count': 'presence',
  // Clips the chat bot made from viewers' !clip commands.
  'clip.created': 'clip',
};

/**
 * Gifts that move a room's leaderboard, and how long to let the gifts service record them first (ms): a
 * first-party gift is committed before its event is published; Kick's `kicks.gifted` reaches the gifts
 * service's consumer and ours at the same time.
 */
const LEADERBOARD_GIFTS: Record<string, number> = { 'gift.sent': 0, 'kicks.gifted': 500 };

/**
 * Fan-out of the events stream (gifts, follows, live status, room state) and of probe results
 * (`viewers`). These are rare per room, so each goes out at once; every payload names the stream
 * sequence it came from. `onGift` hears every gift that counts in a leaderboard.
 */
export function createEventFanout(triggers: TriggerQueue, onGift?: (platform: string, channelId: string, settleMs: number) => void) {
  const send = (events: PusherEvent[]) => Promise.all(events.map((e) => triggers.send(e)));
  return {
    async handleEvents(batch: JsMsg[], context: BatchContext): Promise<void> {
      const decoded = await decodeBatch(batch, eventValidator, context, 'PlatformEvent');
      await send(
        decoded.flatMap(({ msg, value }) => {
          const name = EVENT_NAMES[value.type];
          if (!name) return [];
          const settleMs = LEADERBOARD_GIFTS[value.type];
          if (settleMs !== undefined) onGift?.(value.platform, value.channelId, settleMs);
          const data = JSON.stringify({ seq: msg.info.streamSequence, type: value.type, eventId: value.eventId, at: value.receivedAt, data: value.data });
          return [{ channel: roomChannel(value.platform, value.channelId), name, data }];
        }),
      );
    },
    async handleProbes(batch: JsMsg[], context: BatchContext): Promise<void> {
      const decoded = await decodeBatch(batch, probeValidator, context, 'ProbeResult');
      await send(
        decoded.map(({ msg, value }) => ({
          channel: roomChannel(value.platform, value.platformUserId),
          name: 'viewers',
          data: JSON.stringify({ seq: msg.info.streamSequence, at: value.ts, live: value.isLive, viewers: value.viewerCount }),
        })),
      );
    },
  };
}
