import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
// Deep import: the package index also builds the English dictionaries, which esbuild cannot drop.
import translations from '@zxcvbn-ts/language-en/dist/translations.mjs';
import { base64url, constantTimeEqual, fromBase64url } from '../lib/crypto';

/**
 * Deployed Workers reject PBKDF2 above 100,000 iterations (local workerd has no such cap, so a
 * higher number would pass every local test and then fail every login in production). The
 * count is stored in each hash, so it can be raised later without breaking existing users.
 */
export const PBKDF2_MAX_ITERATIONS_ON_WORKERS = 100_000;
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;
const SCHEME = 'pbkdf2-sha256';

export const MIN_PASSWORD_SCORE = 3;
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

const encoder = new TextEncoder();

/*
 * The pepper is a server secret (PASSWORD_PEPPER) that never touches D1: it keys an HMAC of the
 * password before PBKDF2, so a stolen database alone cannot be brute-forced offline.
 */
async function pepperKey(pepper: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(pepper), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

async function derive(password: string, pepper: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  if (iterations > PBKDF2_MAX_ITERATIONS_ON_WORKERS) {
    throw new Error(`PBKDF2 iterations ${iterations} exceed the Workers limit of ${PBKDF2_MAX_ITERATIONS_ON_WORKERS}`);
  }
  const peppered = await crypto.subtle.sign('HMAC', await pepperKey(pepper), encoder.encode(password));
  const key = await crypto.subtle.importKey('raw', peppered, 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, pepper: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, pepper, salt, iterations);
  return `${SCHEME}$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

export function parsePasswordHash(stored: string): { iterations: number; salt: Uint8Array; hash: Uint8Array } | null {
  const [scheme, iter, salt, hash] = stored.split('$');
  const iterations = Number(iter);
  if (scheme !== SCHEME || !Number.isInteger(iterations) || iterations < 1 || !salt || !hash) return null;
  return { iterations, salt: fromBase64url(salt), hash: fromBase64url(hash) };
}

/** Verifies in constant time; also says whether the hash uses weaker parameters than today's. */
export async function verifyPassword(password: string, stored: string, pepper: string): Promise<{ ok: boolean; needsRehash: boolean }> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) return { ok: false, needsRehash: false };
  const candidate = await derive(password, pepper, parsed.salt, parsed.iterations);
  return { ok: constantTimeEqual(candidate, parsed.hash), needsRehash: parsed.iterations < PBKDF2_ITERATIONS };
}

/*
 * A fixed hash to verify against when the user does not exist, so that an unknown username
 * costs the same PBKDF2 work as a wrong password and the two cannot be told apart by timing.
 * Its salt is random per isolate; what matters is that the work is identical.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(pepper: string): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomUUID(), pepper);
  return dummyHash;
}

let estimator: ZxcvbnFactory | undefined;
function getEstimator(): ZxcvbnFactory {
  // Built once per isolate: the dictionaries are large and immutable. The language-independent
  // dictionary (frequent leaked passwords, diceware words) and keyboard graphs are used; the
  // English name and Wikipedia word lists are left out, as they alone would more than double the
  // Worker bundle (they are about 1.2 MB).
  estimator ??= new ZxcvbnFactory({ translations, graphs: adjacencyGraphs, dictionary: commonDictionary });
  return estimator;
}

export type StrengthReport = { ok: boolean; score: number; reasons: string[] };

/**
 * Strength by zxcvbn (pattern and dictionary matching with guess estimation), with the user's
 * own username and email as extra dictionary words. Rejections say why, in zxcvbn's words.
 */
export function checkPasswordStrength(password: string, userInputs: string[] = []): StrengthReport {
  const reasons: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) reasons.push(`Use at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (password.length > MAX_PASSWORD_LENGTH) {
    return { ok: false, score: 0, reasons: [`Use at most ${MAX_PASSWORD_LENGTH} characters.`] };
  }
  const result: ZxcvbnResult = getEstimator().check(password, userInputs);
  if (result.score < MIN_PASSWORD_SCORE) {
    if (result.feedback.warning) reasons.push(result.feedback.warning);
    reasons.push(...result.feedback.suggestions);
    if (reasons.length === 0) reasons.push('This password is too easy to guess.');
  }
  return { ok: reasons.length === 0, score: result.score, reasons };
}
