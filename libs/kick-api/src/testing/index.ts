export { startFakeKick } from './fake-kick';
export type { FakeKick, FakeKickChannel, FakeKickFault, FakeKickOptions, FakeKickRequest, FakeKickUser } from './fake-kick';
