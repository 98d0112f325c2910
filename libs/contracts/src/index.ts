export { createTopology } from './topology';
export { parseRoomId, roomChannel } from './rooms';
export { uuidV7, uuidV7Time } from './message-ids';
export type { Topology } from './topology';
export {
  DEFAULT_STREAM_LIMITS,
  chatToBotConsumer,
  chatToClickHouseConsumer,
  eventsToBotConsumer,
  kickGiftsConsumer,
  chatToGatewayConsumer,
  chatToPostgresConsumer,
  eventsToGatewayConsumer,
  probesToGatewayConsumer,
  jobConsumer,
  probesToClickHouseConsumer,
  streamDefinitions,
  streamLimits,
} from './streams';
export type { ConsumerDefinition, StreamDefinition, StreamLimits } from './streams';
export {
  ChatMessage,
  DeadLetter,
  JobRequest,
  KickChatMessageSent,
  KickEventPayloads,
  KickUser,
  Platform,
  PlatformEvent,
  ProbeResult,
  SenderRole,
  compileValidator,
  isKickEventType,
} from './messages';
export type { KickEventPayload, KickEventType, Validator } from './messages';
