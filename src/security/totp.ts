/**
 * TOTP (RFC 6238) over HOTP (RFC 4226) with WebCrypto HMAC. Defaults are what authenticator apps
 * expect: SHA-1, 30-second steps, 6 digits. Secrets are exchanged in base32 (RFC 4648), as in
 * `otpauth://` URIs.
 */
export type TotpAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-512';
export type TotpOptions = { algorithm?: TotpAlgorithm; digits?: number; period?: number };

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const idx = B32.indexOf(ch);
    if (idx < 0) throw new Error('invalid base32');
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** A new random secret: 20 bytes, the HMAC-SHA-1 block-friendly size RFC 4226 recommends. */
export function newTotpSecret(): string {
  return base32Encode(crypto.getRandomValues(new Uint8Array(20)));
}

/** HOTP value for one counter (RFC 4226 §5.3, dynamic truncation). */
export async function hotp(key: Uint8Array, counter: number, digits = 6, algorithm: TotpAlgorithm = 'SHA-1'): Promise<string> {
  const msg = new Uint8Array(8);
  new DataView(msg.buffer).setBigUint64(0, BigInt(counter));
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: algorithm }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, msg));
  const offset = mac[mac.length - 1]! & 0x0f;
  const code = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(code % 10 ** digits).padStart(digits, '0');
}

export const totpCounter = (unixSeconds: number, period = 30) => Math.floor(unixSeconds / period);

export async function totp(key: Uint8Array, unixSeconds: number, opts: TotpOptions = {}): Promise<string> {
  return hotp(key, totpCounter(unixSeconds, opts.period), opts.digits ?? 6, opts.algorithm ?? 'SHA-1');
}

/**
 * Checks a code against the current step and one step either side (clock drift), comparing
 * every candidate without an early exit. Returns the matching counter, so the caller can store
 * it and refuse that code (and older ones) next time: a code is accepted once only.
 */
export async function verifyTotp(
  secret: string,
  code: string,
  opts: TotpOptions & { now?: number; lastCounter?: number | null } = {},
): Promise<number | null> {
  if (!/^\d{6,8}$/.test(code)) return null;
  const key = base32Decode(secret);
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const current = totpCounter(now, opts.period);
  let match: number | null = null;
  for (const counter of [current - 1, current, current + 1]) {
    const expected = await hotp(key, counter, code.length, opts.algorithm ?? 'SHA-1');
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ code.charCodeAt(i);
    if (diff === 0 && (opts.lastCounter === null || opts.lastCounter === undefined || counter > opts.lastCounter)) match = counter;
  }
  return match;
}

/** The `otpauth://` URI authenticator apps scan (Google Authenticator key-URI format). */
export function otpauthUri(secret: string, account: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
}
