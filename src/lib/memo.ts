/**
 * `build(key)`, computed once per key object and kept as long as that object lives (a WeakMap):
 * for values derived from something that never changes once made — a binding, a parsed model
 * artefact — so each isolate derives them once instead of on every request.
 */
export function perObject<K extends object, V>(build: (key: K) => V): (key: K) => V {
  const built = new WeakMap<K, V>();
  return (key) => {
    let value = built.get(key);
    if (value === undefined) built.set(key, (value = build(key)));
    return value;
  };
}
