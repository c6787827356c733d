import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';

/*
 * Access tokens are short-lived HS256 JWTs (RFC 9068 `typ: at+jwt`). Verification pins the
 * algorithm (so `alg: none` and algorithm confusion are refused) and checks iss, aud, exp and typ.
 * Revocation and role changes still take effect at once: `authenticate()` re-reads the session
 * and the user's role from D1 on every request, so the JWT only proves who is asking.
 */
export const ISSUER = 'document-workflow-chain';
export const AUDIENCE = 'dwc-api';
const ALG = 'HS256';
const TYP = 'at+jwt';

const ClaimsSchema = z.object({
  sub: z.string().regex(/^\d+$/),
  sid: z.string().min(1).max(64),
  jti: z.string().min(1),
  iat: z.number(),
  exp: z.number(),
});
export type AccessClaims = z.infer<typeof ClaimsSchema>;

const keys = new Map<string, Uint8Array>();
function secretKey(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keys.set(secret, key);
  }
  return key;
}

export async function signAccessToken(secret: string, userId: number, sessionId: string, ttlSeconds: number): Promise<string> {
  return new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: ALG, typ: TYP })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(String(userId))
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(secretKey(secret));
}

/** Returns the validated claims, or null for any token that is not one of ours and current. */
export async function verifyAccessToken(secret: string, token: string): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, secretKey(secret), {
      algorithms: [ALG],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: TYP,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    const claims = ClaimsSchema.safeParse(payload);
    return claims.success ? claims.data : null;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return null;
    throw err;
  }
}
