/*
 * Web Push with WebCrypto only: VAPID (RFC 8292) and message encryption (RFC 8291, the
 * "aes128gcm" content coding of RFC 8188). Workers have no Node crypto, and every primitive needed
 * here — ECDSA and ECDH on P-256, HKDF-SHA-256, AES-128-GCM — is in WebCrypto.
 */
const enc = new TextEncoder();

export function b64url(bytes: ArrayBuffer | Uint8Array): string {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
};

/** An uncompressed P-256 point (0x04 || x || y) as a JWK, with `d` for a private key. */
function jwkOf(publicKey: Uint8Array, d?: string): JsonWebKey {
  if (publicKey.byteLength !== 65 || publicKey[0] !== 4) throw new Error('not an uncompressed P-256 public key');
  return { kty: 'EC', crv: 'P-256', x: b64url(publicKey.slice(1, 33)), y: b64url(publicKey.slice(33, 65)), ...(d ? { d } : {}), ext: true };
}

export type VapidKeys = { publicKey: string; privateKey: string };

/** A new application server key pair: the public key as the browser's `applicationServerKey`. */
export async function generateVapidKeys(): Promise<VapidKeys> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = (await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer;
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
  return { publicKey: b64url(raw), privateKey: jwk.d! };
}

/** Whether a private key (base64url `d`) belongs to a public key: sign and verify one message. */
export async function vapidKeysMatch(keys: VapidKeys): Promise<boolean> {
  try {
    const pub = fromB64url(keys.publicKey);
    const priv = await crypto.subtle.importKey('jwk', jwkOf(pub, keys.privateKey), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const ver = await crypto.subtle.importKey('raw', pub, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, priv, enc.encode('vapid'));
    return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, ver, sig, enc.encode('vapid'));
  } catch {
    return false;
  }
}

/**
 * RFC 8292 §2-3: an ES256 JWT whose `aud` is the push service's origin, `exp` at most 24 hours
 * ahead (12 here, as most libraries do) and `sub` a contact URI, sent as
 * `Authorization: vapid t=<jwt>, k=<public key>`. WebCrypto's ECDSA signature is already the
 * raw r || s that JWS ES256 wants (not DER).
 */
export async function vapidAuthorization(endpoint: URL, subject: string, keys: VapidKeys, nowSeconds: number): Promise<string> {
  const header = b64url(enc.encode(JSON.stringify({ typ: 'JWT', alg: 'ES256' })));
  const claims = b64url(enc.encode(JSON.stringify({ aud: endpoint.origin, exp: nowSeconds + 12 * 3600, sub: subject })));
  const key = await crypto.subtle.importKey(
    'jwk',
    jwkOf(fromB64url(keys.publicKey), keys.privateKey),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, enc.encode(`${header}.${claims}`));
  return `vapid t=${header}.${claims}.${b64url(sig)}, k=${keys.publicKey}`;
}

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, bytes * 8));
}

/** The record size we declare; one record holds the whole message. */
const RECORD_SIZE = 4096;
/** The largest plaintext one record can carry: rs minus the 16-byte tag and the 0x02 delimiter. */
export const MAX_PUSH_PLAINTEXT = RECORD_SIZE - 16 - 1 - 86;

/**
 * RFC 8291 §3-4: a fresh ECDH key pair and salt per message; the shared secret is mixed with the
 * subscription's auth secret (HKDF, info "WebPush: info" || 0 || ua_public || as_public), then
 * the content key and nonce are derived as RFC 8188 says. The body is the aes128gcm header
 * (salt, record size, key id = our ephemeral public key) followed by one record ending in 0x02.
 */
export async function encryptPushPayload(plaintext: Uint8Array, p256dh: string, auth: string): Promise<Uint8Array> {
  if (plaintext.byteLength > MAX_PUSH_PLAINTEXT) throw new Error(`push payload over ${MAX_PUSH_PLAINTEXT} bytes`);
  const uaPublic = fromB64url(p256dh);
  const authSecret = fromB64url(auth);
  const ua = await crypto.subtle.importKey('raw', uaPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const as = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
  const asPublic = new Uint8Array((await crypto.subtle.exportKey('raw', as.publicKey)) as ArrayBuffer);
  // workers-types spells the ECDH peer key `$public` (a generator artefact); workerd reads `public`.
  const ecdhParams = { name: 'ECDH', public: ua } as unknown as SubtleCryptoDeriveKeyAlgorithm;
  const ecdhSecret = new Uint8Array(await crypto.subtle.deriveBits(ecdhParams, as.privateKey, 256));
  const ikm = await hkdf(authSecret, ecdhSecret, concat(enc.encode('WebPush: info\0'), uaPublic, asPublic), 32);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const cek = await hkdf(salt, ikm, enc.encode('Content-Encoding: aes128gcm\0'), 16);
  const nonce = await hkdf(salt, ikm, enc.encode('Content-Encoding: nonce\0'), 12);
  const key = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['encrypt']);
  const record = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, concat(plaintext, new Uint8Array([2]))));
  const header = new Uint8Array(21);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, RECORD_SIZE);
  header[20] = asPublic.byteLength;
  return concat(header, asPublic, record);
}
