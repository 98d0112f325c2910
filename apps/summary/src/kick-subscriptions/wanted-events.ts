/**
 * The Kick webhooks every active channel is subscribed to (version 1 each). A paused (`suspended`) or
 * removed (`archived`) streamer's channels want none: the reconciler deletes what Kick still lists.
 */
export const WANTED_KICK_EVENTS = [
  'chat.message.sent',
  'livestream.status.updated',
  'livestream.metadata.updated',
  'channel.followed',
  'channel.subscription.new',
  'channel.subscription.renewal',
  'channel.subscription.gifts',
  'kicks.gifted',
  'moderation.banned',
] as const;

export const KICK_EVENT_VERSION = 1;

export function wantedEvents(streamerStatus: string): readonly string[] {
  return streamerStatus === 'active' ? WANTED_KICK_EVENTS : [];
}
