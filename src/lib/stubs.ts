/**
 * Every call on a Durable Object stub is an RPC, so it returns a promise whatever the method
 * returns inside the object. `Stub<T>` is that view of a feature's RPC interface `T`.
 */
export type Stub<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** What objectStub needs of a namespace binding, whichever class the generated Env names for it. */
type Namespace = { idFromName(name: string): DurableObjectId; get(id: DurableObjectId): unknown };

/**
 * The stub of the object called `name` in `ns`, typed by the RPC interface that the calling
 * feature owns (`src/<feature>/rpc.ts`), which the object's class implements.
 *
 * Why a cast: the stub types generated for the classes (`DurableObjectStub<C>`) turn methods whose
 * values contain `unknown` (run input, event payloads: arbitrary JSON) into `never`. The
 * interface states the real signatures, `implements` holds the class to them, and values cross by
 * structured clone, which carries every JSON value. This is the one place that cast is written.
 *
 * @example
 *   export interface CounterRpc { add(n: number): number }
 *   const counter = objectStub<CounterRpc>(env.COUNTER, 'global');
 *   await counter.add(1); // Promise<number>
 */
export function objectStub<T>(ns: Namespace, name: string): Stub<T> {
  return ns.get(ns.idFromName(name)) as unknown as Stub<T>;
}
