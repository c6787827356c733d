/** Security's public module: security events, IP rules, rate limits and TOTP, used by auth and its guard. */
export { noteAccessDenied, reachesBurst, recordSecurityEvent } from './events';
export { enforceIpRules } from './ip-rules';
export { type Counted, countSubject, ipSubject, isAuthPath, routeClasses, settleLimits, type Subject } from './rate-limits';
export { base32Encode, newTotpSecret, otpauthUri, verifyTotp } from './totp';
export { purgeExpired, purgeRunStorage } from './retention';
