/** The cache's public module: cached values in memory, the edge cache and KV, by namespace. */
export { cached, type CacheScope } from './cache';
export { loadOnce, Lru } from './memory';
