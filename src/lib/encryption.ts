import { base64url, fromBase64url } from './crypto';
import { secrets } from './config';

/**
 * Encryption at rest for stored secrets (provider API keys, webhook and channel secrets):
 * AES-256-GCM through WebCrypto with a fresh 96-bit IV per value. The stored form is
 * `enc:<keyId>:<iv>:<ciphertext+tag>` (base64url), so keys can rotate: new values use the
 * current key, old ones name the key that can open them. The record's identity (for example
 * `webhook:42:secret`) is bound as additional authenticated data, so a ciphertext copied into
 * another record — or another field — fails to decrypt instead of leaking there.
 *
 * Keys come from the ENCRYPTION_KEYS secret: `<id>:<base64url 32 bytes>[,<id>:<key>…]`, the first
 * being current.
 */
export type Keyring = { current: string; keys: Map<string, CryptoKey> };

export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

export async function loadKeyring(spec: string): Promise<Keyring> {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('ENCRYPTION_KEYS is empty');
  const keys = new Map<string, CryptoKey>();
  for (const entry of entries) {
    const [id, material] = entry.split(':');
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || !material) throw new Error('ENCRYPTION_KEYS entries must be <id>:<base64url key>');
    let raw: Uint8Array;
    try {
      raw = fromBase64url(material);
    } catch {
      throw new Error(`encryption key ${id} is not base64url`);
    }
    if (raw.length !== 32) throw new Error(`encryption key ${id} must be 32 bytes`);
    keys.set(id, await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  }
  return { current: entries[0]!.split(':')[0]!, keys };
}

const encoder = new TextEncoder();

export async function encryptSecret(ring: Keyring, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
    ring.keys.get(ring.current)!,
    encoder.encode(plaintext),
  );
  return `enc:${ring.current}:${base64url(iv)}:${base64url(sealed)}`;
}

export async function decryptSecret(ring: Keyring, stored: string, context: string): Promise<string> {
  const [tag, keyId, iv, data] = stored.split(':');
  const key = keyId ? ring.keys.get(keyId) : undefined;
  if (tag !== 'enc' || !key || !iv || !data) throw new DecryptionError('not an encrypted value, or its key is not configured');
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(iv), additionalData: encoder.encode(context) },
      key,
      fromBase64url(data),
    );
    return new TextDecoder().decode(plain);
  } catch {
    // GCM authentication failed: wrong record, wrong field, or a tampered value.
    throw new DecryptionError('the value does not belong to this record or was altered');
  }
}

/** True when a stored value is encrypted with a key other than the current one (re-encrypt it). */
export const needsReencryption = (ring: Keyring, stored: string) => stored.split(':')[1] !== ring.current;

// Imported keys per isolate, keyed by the spec so a rotated secret (new deployment) is picked up.
let cached: { spec: string; ring: Promise<Keyring> } | null = null;

/** The keyring from the ENCRYPTION_KEYS secret, imported once per isolate. */
export function keyring(env: Env): Promise<Keyring> {
  const spec = secrets(env).encryptionKeys;
  if (cached?.spec !== spec) cached = { spec, ring: loadKeyring(spec) };
  return cached.ring;
}

/**
 * Encrypts `plaintext` for one field of one record, e.g. `sealFor(env, 'user_mfa', 42, 'secret', s)`.
 * The same (table, id, field) must be given to `openFor`, or decryption fails.
 */
export async function sealFor(env: Env, table: string, id: string | number, field: string, plaintext: string): Promise<string> {
  return encryptSecret(await keyring(env), plaintext, `${table}:${id}:${field}`);
}

export async function openFor(env: Env, table: string, id: string | number, field: string, stored: string): Promise<string> {
  return decryptSecret(await keyring(env), stored, `${table}:${id}:${field}`);
}
