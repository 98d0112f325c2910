export { chatItems, chatRow, createRoomFeed } from './room-feed';
export type { ChatEventPayload, ChatItem, ChatRowWire, FeedGap, RoomFeed, RoomFeedOptions, PusherLike, ChannelLike } from './room-feed';
