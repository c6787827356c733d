import { describe, expect, it } from 'vitest';
import {
  checkPasswordStrength,
  hashPassword,
  parsePasswordHash,
  PBKDF2_ITERATIONS,
  PBKDF2_MAX_ITERATIONS_ON_WORKERS,
  verifyPassword,
} from '../../src/auth/passwords';

const PEPPER = 'unit-test-pepper-0123456789';

describe('password hashing', () => {
  it('uses exactly the 100,000 PBKDF2 iterations deployed Workers allow (local workerd has no cap)', async () => {
    expect(PBKDF2_MAX_ITERATIONS_ON_WORKERS).toBe(100_000);
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(PBKDF2_MAX_ITERATIONS_ON_WORKERS);
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const stored = await hashPassword('some long passphrase', PEPPER);
    expect(stored).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });

  it('refuses to derive above the Workers cap, so a higher setting fails here and not in production', async () => {
    await expect(hashPassword('x', PEPPER, 100_001)).rejects.toThrow(/exceed the Workers limit/);
  });

  it('salts per hash, verifies, and depends on the pepper', async () => {
    const a = await hashPassword('same password', PEPPER);
    const b = await hashPassword('same password', PEPPER);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a, PEPPER)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword('same passworD', a, PEPPER)).ok).toBe(false);
    expect((await verifyPassword('same password', a, 'another-pepper-value')).ok).toBe(false);
  });

  it('keeps the parameters with the hash and flags weaker ones for rehash', async () => {
    const old = await hashPassword('legacy', PEPPER, 1000);
    expect(parsePasswordHash(old)?.iterations).toBe(1000);
    expect(await verifyPassword('legacy', old, PEPPER)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword('legacy', 'md5$abc', PEPPER)).toEqual({ ok: false, needsRehash: false });
  });
});

describe('password strength (zxcvbn)', () => {
  it.each(['password123', 'qwertyuiop', 'aaaaaaaaaaaa', 'Summer2024!', 'iloveyou12'])('rejects %s with reasons', (pw) => {
    const r = checkPasswordStrength(pw);
    expect(r.ok).toBe(false);
    expect(r.reasons.length).toBeGreaterThan(0);
  });

  it("rejects short passwords and ones made of the user's own inputs", () => {
    expect(checkPasswordStrength('Xq9#v').reasons[0]).toMatch(/at least 10/);
    expect(checkPasswordStrength('margaretthatcher1', ['margaretthatcher']).ok).toBe(false);
  });

  it('accepts strong passphrases', () => {
    expect(checkPasswordStrength('violet-Harbor-lantern-93')).toMatchObject({ ok: true, reasons: [] });
    expect(checkPasswordStrength('correct horse battery staple orbit').ok).toBe(true);
  });
});
