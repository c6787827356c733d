/**
 * Stands in for Node's `crypto` module in the bundle (wrangler.toml `[alias]`). random-js, a
 * dependency of ml-random-forest, has a `nodeCrypto` engine that calls `require("crypto")`;
 * esbuild cannot bundle that without `nodejs_compat`, yet the engine is never used here (forests
 * are seeded with MersenneTwister). If anything ever does call it, it fails loudly instead of
 * drawing weak randomness.
 */
export function randomBytes(): never {
  throw new Error('Node crypto is not available in this Worker; use WebCrypto (crypto.getRandomValues)');
}
export default { randomBytes };
