import { base64url, fromBase64url } from '../lib/crypto';

/** How long a signed download link works. Short: it is a bearer credential in a URL, which gets logged and shared. */
export const LINK_TTL_SECONDS = 15 * 60;

/*
 * A signed link is `/api/v3/exports/{id}/file?expires=<epoch s>&signature=<HMAC-SHA256>`, the MAC
 * over "export-link:v1:{id}:{expires}" keyed with JWT_SECRET. The prefix keeps these MACs from
 * ever being mistaken for a token's (which sign other input with the same secret), and
 * crypto.subtle.verify compares in constant time. Rotating JWT_SECRET voids every open link.
 */
async function key(env: Env, usage: 'sign' | 'verify') {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(env.JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}
const message = (id: number, expires: number) => new TextEncoder().encode(`export-link:v1:${id}:${expires}`);

export async function signedPath(env: Env, id: number, now = Date.now()): Promise<{ path: string; expiresAt: number }> {
  const expires = Math.floor(now / 1000) + LINK_TTL_SECONDS;
  const mac = await crypto.subtle.sign('HMAC', await key(env, 'sign'), message(id, expires));
  return { path: `/api/v3/exports/${id}/file?expires=${expires}&signature=${base64url(mac)}`, expiresAt: expires * 1000 };
}

export async function verifyLink(env: Env, id: number, expires: number, signature: string, now = Date.now()): Promise<boolean> {
  if (expires * 1000 < now) return false;
  let mac: Uint8Array;
  try {
    mac = fromBase64url(signature);
  } catch {
    return false;
  }
  return crypto.subtle.verify('HMAC', await key(env, 'verify'), mac, message(id, expires));
}
