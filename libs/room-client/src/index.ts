export { chatItems, chatRow, createRoomFeed } from './room-feed';
export type { ChatEventPayload, ChatItem, ChatRowWire, RoomFeed, RoomFeedOptions, PusherLike, ChannelLike } from './room-feed';
