import { base64url, constantTimeEqual, fromBase64url } from '../lib/crypto';

/*
 * Device tokens: what lets the rightful owner sign in from a device they used before while
 * someone else is guessing their password. A successful sign-in hands one out (in the answer and
 * as an HttpOnly cookie); a sign-in that presents a valid one for the account is counted on that
 * device's own lockout, not on the account's, so failures from elsewhere cannot lock it out.
 *
 * Stateless: `dwcd_<user id>.<device id>.<issued, s>.<HMAC>`, keyed by the JWT secret (a purpose
 * prefix keeps it apart from tokens). A token issued before the account's last password change is
 * no longer valid, so a reset also forgets every known device. It grants nothing but a separate
 * attempt counter: stolen, it lets a thief guess no faster than from a fresh address.
 */
export const DEVICE_COOKIE = 'dwc_device';
export const DEVICE_TOKEN_MAX_AGE_SECONDS = 180 * 86_400;
const PREFIX = 'dwcd_';
const encoder = new TextEncoder();

async function sign(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(`device-token:${secret}`), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return base64url(await crypto.subtle.sign('HMAC', key, encoder.encode(payload)));
}

export async function issueDeviceToken(secret: string, userId: number, deviceId: string = crypto.randomUUID()): Promise<string> {
  const payload = `${userId}.${deviceId}.${Math.floor(Date.now() / 1000)}`;
  return `${PREFIX}${payload}.${await sign(secret, payload)}`;
}

/**
 * The device id of a valid token for this user, or null: wrong user, bad signature, older than
 * the password's last change, or past its age.
 */
export async function knownDevice(
  secret: string,
  token: string | undefined,
  user: { id: number; passwordChangedAt: number | null },
): Promise<string | null> {
  if (!token?.startsWith(PREFIX) || token.length > 200) return null;
  const parts = token.slice(PREFIX.length).split('.');
  if (parts.length !== 4) return null;
  const [uid, deviceId, issued, sig] = parts as [string, string, string, string];
  if (uid !== String(user.id) || !/^[0-9a-f-]{36}$/.test(deviceId) || !/^\d{1,12}$/.test(issued)) return null;
  let given: Uint8Array;
  try {
    given = fromBase64url(sig);
  } catch {
    return null;
  }
  const expected = fromBase64url(await sign(secret, `${uid}.${deviceId}.${issued}`));
  if (!constantTimeEqual(given, expected)) return null;
  const issuedMs = Number(issued) * 1000;
  if (Date.now() - issuedMs > DEVICE_TOKEN_MAX_AGE_SECONDS * 1000) return null;
  if (user.passwordChangedAt !== null && issuedMs < Math.floor(user.passwordChangedAt / 1000) * 1000) return null;
  return deviceId;
}

/** The Set-Cookie value carrying a device token: sent only to this API, never to scripts. */
export const deviceCookie = (token: string) =>
  `${DEVICE_COOKIE}=${token}; Max-Age=${DEVICE_TOKEN_MAX_AGE_SECONDS}; Path=/api/v3; HttpOnly; Secure; SameSite=Strict`;
