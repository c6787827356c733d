/**
 * A per-isolate cache of parsed model artefacts, so a recommendation does not read every chunk of
 * its model from D1 and JSON-parse it (5 000 items × 50 neighbours is megabytes) on each request.
 *
 * Why it is never stale: a version's chunks are written once, in the batch that bumps the model's
 * version (saveVersion), and never changed afterwards; every request reads the model row from D1
 * first and looks up the version that row names. A retrain therefore changes the key, and the old
 * entry is simply no longer asked for. The key also carries the model's creation and training
 * timestamps, so a database restored to an earlier point (ids and versions reused with other
 * content) does not meet a previous life's entry.
 *
 * What it is not: shared. Each isolate fills its own (isolates come and go, and two of them hold
 * separate copies); losing it costs one D1 read and one parse. Entries are promises, so concurrent
 * requests for one version share a single read and parse; a failed load is dropped, never cached.
 */
import type { Artefact } from './engine';
import { loadOnce, Lru } from '../cache';

/**
 * Bound on the JSON characters of the artefacts held per isolate. An isolate has 128 MB of memory
 * and a parsed artefact (arrays of numbers) takes roughly one to two bytes per JSON character, so
 * this leaves room for the requests themselves.
 */
export const MAX_CACHED_CHARS = 32_000_000;

export type ArtefactKey = { modelId: number; version: number; createdAt: number; trainedAt: number | null };

const artefacts = new Lru({ maxEntries: Number.POSITIVE_INFINITY, maxBytes: MAX_CACHED_CHARS });

const keyOf = (k: ArtefactKey) => `${k.modelId}:${k.version}:${k.createdAt}:${k.trainedAt ?? 0}`;

/**
 * The artefact for `key`, from this isolate's cache or from `load` (which returns the parsed value
 * and the length of its JSON). `expectedChars` (the training summary's `artefact_chars`) sizes the
 * entry before the load finishes; an artefact larger than the whole budget is loaded but not kept.
 */
export function cachedArtefact(
  key: ArtefactKey,
  expectedChars: number,
  load: () => Promise<{ artefact: Artefact; chars: number }>,
): Promise<Artefact> {
  const k = keyOf(key);
  if (artefacts.peek(k) === undefined) {
    // Older versions of the same model are never asked for again by an up-to-date request.
    artefacts.deleteWhere((other) => {
      const [modelId, version] = other.split(':').map(Number);
      return modelId === key.modelId && version! < key.version;
    });
  }
  return loadOnce(artefacts, k, expectedChars, load, (r) => r.chars).then((r) => r.artefact);
}

/** What this isolate holds (for tests and diagnostics). */
export function artefactCacheSize() {
  return { entries: artefacts.size, chars: artefacts.totalBytes };
}
