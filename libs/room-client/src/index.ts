export { chatItems, chatRow, createRoomFeed, jitterReconnects } from './room-feed';
export type { ChatEventPayload, ChatItem, ChatRowWire, FeedGap, ReconnectingPusherLike, RoomFeed, RoomFeedOptions, PusherLike, ChannelLike } from './room-feed';
