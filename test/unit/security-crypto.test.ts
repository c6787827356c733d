import { describe, expect, it } from 'vitest';
import { base64url } from '../../src/lib/crypto';
import { decryptSecret, encryptSecret, loadKeyring, needsReencryption } from '../../src/lib/encryption';
import { base32Decode, base32Encode, hotp, otpauthUri, totp, verifyTotp } from '../../src/security/totp';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 Appendix B: the seeds are the ASCII strings below; 8-digit codes.
  const seeds = {
    'SHA-1': ascii('12345678901234567890'),
    'SHA-256': ascii('12345678901234567890123456789012'),
    'SHA-512': ascii('1234567890123456789012345678901234567890123456789012345678901234'),
  } as const;
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it.each(vectors)('matches Appendix B at T=%i', async (t, sha1, sha256, sha512) => {
    expect(await totp(seeds['SHA-1'], t, { digits: 8 })).toBe(sha1);
    expect(await totp(seeds['SHA-256'], t, { digits: 8, algorithm: 'SHA-256' })).toBe(sha256);
    expect(await totp(seeds['SHA-512'], t, { digits: 8, algorithm: 'SHA-512' })).toBe(sha512);
  });

  it('matches RFC 4226 Appendix D HOTP values', async () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    for (let i = 0; i < 10; i++) expect(await hotp(seeds['SHA-1'], i)).toBe(expected[i]);
  });

  it('round-trips base32 and builds the otpauth URI apps scan', () => {
    expect(base32Encode(ascii('12345678901234567890'))).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(ascii('12345678901234567890'));
    expect(otpauthUri('ABC', 'ada@example.com', 'Document Workflow Chain')).toBe(
      'otpauth://totp/Document%20Workflow%20Chain:ada%40example.com?secret=ABC&issuer=Document%20Workflow%20Chain&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('accepts the current code and its neighbours once, and refuses a replay or a stale code', async () => {
    const secret = base32Encode(seeds['SHA-1']);
    const now = 1_111_111_111_000;
    const code = await totp(seeds['SHA-1'], now / 1000);
    const counter = await verifyTotp(secret, code, { now });
    expect(counter).toBe(Math.floor(1_111_111_111 / 30));
    expect(await verifyTotp(secret, code, { now, lastCounter: counter })).toBeNull(); // replay
    const previous = await totp(seeds['SHA-1'], now / 1000 - 30);
    expect(await verifyTotp(secret, previous, { now })).toBe(counter! - 1); // one step of drift
    expect(await verifyTotp(secret, previous, { now, lastCounter: counter })).toBeNull(); // older than the last used
    const old = await totp(seeds['SHA-1'], now / 1000 - 120);
    expect(await verifyTotp(secret, old, { now })).toBeNull();
    expect(await verifyTotp(secret, 'abcdef', { now })).toBeNull();
  });
});

describe('secret encryption (AES-256-GCM)', () => {
  const key = (b: number) => base64url(new Uint8Array(32).fill(b));

  it('round-trips, never stores the plaintext, and uses a fresh IV each time', async () => {
    const ring = await loadKeyring(`k1:${key(1)}`);
    const a = await encryptSecret(ring, 'sk-live-secret', 'webhook:1:secret');
    const b = await encryptSecret(ring, 'sk-live-secret', 'webhook:1:secret');
    expect(a).toMatch(/^enc:k1:/);
    expect(a).not.toContain('sk-live');
    expect(a).not.toBe(b);
    expect(await decryptSecret(ring, a, 'webhook:1:secret')).toBe('sk-live-secret');
  });

  it('fails to decrypt a ciphertext moved to another record or field, or altered', async () => {
    const ring = await loadKeyring(`k1:${key(1)}`);
    const sealed = await encryptSecret(ring, 'hunter2', 'webhook:1:secret');
    await expect(decryptSecret(ring, sealed, 'webhook:2:secret')).rejects.toThrow(/does not belong/);
    await expect(decryptSecret(ring, sealed, 'webhook:1:token')).rejects.toThrow(/does not belong/);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    await expect(decryptSecret(ring, tampered, 'webhook:1:secret')).rejects.toThrow();
  });

  it('rotates keys: old values still open with their key id, and are flagged for re-encryption', async () => {
    const old = await loadKeyring(`k1:${key(1)}`);
    const sealed = await encryptSecret(old, 'v', 'r:1');
    const rotated = await loadKeyring(`k2:${key(2)},k1:${key(1)}`);
    expect(await decryptSecret(rotated, sealed, 'r:1')).toBe('v');
    expect(needsReencryption(rotated, sealed)).toBe(true);
    expect(needsReencryption(rotated, await encryptSecret(rotated, 'v', 'r:1'))).toBe(false);
    await expect(decryptSecret(await loadKeyring(`k2:${key(2)}`), sealed, 'r:1')).rejects.toThrow(/not configured/);
  });

  it('refuses malformed key specifications', async () => {
    await expect(loadKeyring('')).rejects.toThrow();
    await expect(loadKeyring('k1:c2hvcnQ')).rejects.toThrow(/32 bytes/);
    await expect(loadKeyring('k1:%%%')).rejects.toThrow(/base64url/);
    await expect(loadKeyring('bad id!:xyz')).rejects.toThrow();
  });
});
