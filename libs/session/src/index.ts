export { SessionTokenError, signSessionToken, verifySessionToken } from './session-token';
export type { SessionTokenProblem, SessionUser } from './session-token';
