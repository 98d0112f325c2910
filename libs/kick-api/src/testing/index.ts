export { startFakeKick } from './fake-kick';
export type { FakeKick, FakeKickChannel, FakeKickChatMessage, FakeKickFault, FakeKickOptions, FakeKickRequest, FakeKickSubscription, FakeKickUser } from './fake-kick';
