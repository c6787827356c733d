import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/*
 * A folder of workflows: one YAML file per workflow, named by its bundle key (`blog-post.yaml`),
 * holding the bundle entry without the key. A subchain names its target by that key
 * (`workflow: summarizer`). Versions and deployment ids never enter the folder: it is the
 * current definitions, to edit and keep under version control.
 */
type Entry = Record<string, unknown> & { key: string };
export type BundleDoc = { format: 'dwc-workflow-bundle'; version: 1; workflows: Entry[] };

const FILE = /^([a-z0-9][a-z0-9_-]{0,63})\.ya?ml$/;

export function writeFolder(dir: string, bundle: { workflows: Entry[] }): string[] {
  mkdirSync(dir, { recursive: true });
  return bundle.workflows.map(({ key, versions: _versions, ...entry }) => {
    const file = path.join(dir, `${key}.yaml`);
    writeFileSync(file, stringify(entry, { lineWidth: 0 }));
    return file;
  });
}

export function readFolder(dir: string): BundleDoc {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const workflows = files.map((f) => {
    const key = FILE.exec(f)?.[1];
    if (!key) throw new Error(`${f}: a workflow file is named <key>.yaml, the key in lower-case letters, digits, - and _`);
    const doc: unknown = parse(readFileSync(path.join(dir, f), 'utf8'));
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${f}: expected a mapping (name, nodes, …)`);
    return { ...(doc as Record<string, unknown>), key };
  });
  if (!workflows.length) throw new Error(`${dir} holds no .yaml workflow files`);
  return { format: 'dwc-workflow-bundle', version: 1, workflows };
}
