export { SessionTokenError, signSessionToken, verifySessionToken } from './session-token';
export type { SessionKeys, SessionTokenProblem, SessionUser } from './session-token';
