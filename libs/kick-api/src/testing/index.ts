export { startFakeKick } from './fake-kick';
export type { FakeKick, FakeKickChannel, FakeKickChatMessage, FakeKickFault, FakeKickOptions, FakeKickRequest, FakeKickUser } from './fake-kick';
