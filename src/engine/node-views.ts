import type { TemplateContext } from './template';
import type { NodeRecord } from './types';

type NodesView = TemplateContext['nodes'];
type View = NodesView[string];

/**
 * What templates see of the run's nodes (`nodes.<id>.output`, `.status`, ...), as of the moment a
 * context was made. A node starting used to copy every node's view into a fresh object, a cost
 * that grew with the graph at every step; instead each node keeps the versions of its view, and a
 * context is a read-only window at one version: it sees what a copy made then would have seen,
 * at the cost of the nodes a template actually reads. Rebuilt from the records by each
 * incarnation, like the schedule's indexes; nothing of it is stored.
 */
export class NodeViews {
  private version = 0;
  private readonly history = new Map<string, { at: number; view: View }[]>();

  constructor(records: Iterable<NodeRecord>) {
    for (const rec of records) this.record(rec);
  }

  /** Notes a node's view after a save, when it changed. */
  record(rec: NodeRecord): void {
    const list = this.history.get(rec.id);
    const last = list?.at(-1);
    if (last && last.view.output === rec.output && last.view.status === rec.status && last.view.finishedAt === rec.finishedAt) return;
    const entry = { at: this.version, view: { output: rec.output, status: rec.status, finishedAt: rec.finishedAt } };
    if (!list) this.history.set(rec.id, [entry]);
    // No window was opened since the last version: no one can see it, so it is replaced.
    else if (last?.at === this.version) list[list.length - 1] = entry;
    else list.push(entry);
  }

  /** The nodes as they are now; later changes are not seen through it. */
  window(): NodesView {
    const at = this.version++;
    const lookup = (id: string): View | undefined => {
      const list = this.history.get(id);
      if (!list) return undefined;
      for (let i = list.length - 1; i >= 0; i--) if (list[i]!.at <= at) return list[i]!.view;
      return undefined;
    };
    const isNode = (key: string | symbol): key is string => typeof key === 'string' && lookup(key) !== undefined;
    // The target stands for the plain object a copy was: keys that are not nodes read as they would on it.
    return new Proxy({} as NodesView, {
      get: (target, key) => (isNode(key) ? lookup(key) : Reflect.get(target, key)),
      has: (target, key) => isNode(key) || Reflect.has(target, key),
      ownKeys: () => [...this.history.keys()].filter((id) => lookup(id) !== undefined),
      getOwnPropertyDescriptor: (target, key) =>
        isNode(key)
          ? { value: lookup(key), writable: true, enumerable: true, configurable: true }
          : Reflect.getOwnPropertyDescriptor(target, key),
    });
  }
}
