/** Auth's public module: users, and who a credential belongs to. Route access is declared with withAccess (src/lib/openapi.ts) and enforced by auth's guard, which src/app.ts installs. */
export { issueSocketTicket, liveCredentials, TICKET_TTL_SECONDS } from './tickets';
export { findUserByLogin, getUser } from './users';
export { RegistrationSettings, registrationSettings, saveRegistrationSettings } from './registration';
