export { createRoomFeed } from './room-feed';
export type { ChatEventPayload, ChatItem, RoomFeed, RoomFeedOptions, PusherLike, ChannelLike } from './room-feed';
