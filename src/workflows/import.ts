import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { rawRun, runBatch, type DB, type Stmt } from '../db/client';
import { workflows } from '../db/schema';
import { auditInsert, type RequestMeta } from '../lib/audit';
import { ApiError } from '../lib/errors';
import { NodesSchema, SettingsSchema, type WorkflowNode, type WorkflowSettings } from '../engine';
import { type Bundle, type BundleWorkflowT, jsonPath, mapSubchains, subchainSites } from './bundle';
import { type Definition, type DefinitionDiff, diffDefinitions } from './diff';
import { versionEvent, type WorkflowRow } from './queries';
import { addTags } from './tags';

export const POLICIES = ['skip', 'rename', 'new_version'] as const;
export type Policy = (typeof POLICIES)[number];
export type ImportAction = 'created' | 'renamed' | 'new_version' | 'skipped' | 'unchanged';

type Problem = { path: (string | number)[]; code: string; message: string };
/** A definition checked by the engine, its subchain targets still bundle keys (by position). */
type Checked = Definition & { nodes: WorkflowNode[]; settings: WorkflowSettings; refs: { path: (string | number)[]; key: string }[] };
type Item = { source: BundleWorkflowT; current: Checked; history: Checked[] };

export type PlanItem = {
  key: string;
  name: string;
  action: ImportAction;
  /** The name it has (or will have) in this deployment. */
  final_name: string;
  workflow_id: number | null;
  version: number | null;
  /** From the existing workflow's current version to the bundle's definition (new_version, and skip of a differing one). */
  diff: DefinitionDiff | null;
};

/*
 * Subchain targets during validation: a bundle key cannot go through the engine's schema, which
 * wants a positive integer, so each key stands in as a number far above any real id, then is
 * mapped to the id it gets here.
 */
const PLACEHOLDER_BASE = 2_000_000_000;

/** Checks one definition with the engine's schemas, collecting problems under `at`. */
function check(
  def: BundleWorkflowT | NonNullable<BundleWorkflowT['versions']>[number],
  keys: string[],
  at: (string | number)[],
  problems: Problem[],
) {
  const refs: Checked['refs'] = [];
  const nodes = mapSubchains(def.nodes, (node) => {
    const { workflow, ...rest } = node;
    const index = typeof workflow === 'string' ? keys.indexOf(workflow) : -1;
    return { ...rest, workflow_id: index >= 0 ? PLACEHOLDER_BASE + index : workflow };
  });
  for (const site of subchainSites(nodes)) {
    const id = site.node.workflow_id;
    if (typeof id === 'number' && id >= PLACEHOLDER_BASE) refs.push({ path: site.path, key: keys[id - PLACEHOLDER_BASE]! });
    else
      problems.push({
        path: [...at, 'nodes', ...site.path, 'workflow'],
        code: 'unknown_workflow',
        message: 'a subchain names its target by the key of a workflow in the bundle',
      });
  }
  const parsedNodes = NodesSchema.safeParse(nodes);
  const parsedSettings = SettingsSchema.safeParse(def.settings ?? {});
  for (const [field, r] of [
    ['nodes', parsedNodes],
    ['settings', parsedSettings],
  ] as const)
    if (!r.success)
      for (const i of r.error.issues)
        problems.push({ path: [...at, field, ...(i.path as (string | number)[])], code: i.code, message: i.message });
  if (!parsedNodes.success || !parsedSettings.success || refs.length !== subchainSites(nodes).length) return null;
  return { name: def.name, description: def.description ?? null, nodes: parsedNodes.data, settings: parsedSettings.data, refs };
}

/** Every workflow of the bundle checked before anything else happens; any problem refuses the import (400, each one named). */
export function validateBundle(bundle: Bundle): Item[] {
  const problems: Problem[] = [];
  const keys = bundle.workflows.map((w) => w.key);
  const seenKeys = new Set<string>();
  const seenNames = new Set<string>();
  const items: Item[] = [];
  bundle.workflows.forEach((w, i) => {
    const at = ['workflows', i];
    if (seenKeys.has(w.key)) problems.push({ path: [...at, 'key'], code: 'duplicate', message: `key "${w.key}" is used twice` });
    if (seenNames.has(w.name)) problems.push({ path: [...at, 'name'], code: 'duplicate', message: `name "${w.name}" is used twice` });
    seenKeys.add(w.key);
    seenNames.add(w.name);
    const current = check(w, keys, at, problems);
    const history = (w.versions ?? []).map((v, j) => check(v, keys, [...at, 'versions', j], problems));
    if (current && history.every((h) => h !== null)) items.push({ source: w, current, history: history as Checked[] });
  });
  if (problems.length) throw new ApiError('validation_error', 'The bundle is invalid: nothing was imported', { details: problems });
  return items;
}

const withTargets = (def: Checked, ids: Map<string, unknown>): Definition => {
  const nodes = structuredClone(def.nodes) as unknown[];
  for (const r of def.refs) {
    const [i, field] = r.path as [number, string | undefined];
    const node = (field ? (nodes[i] as Record<string, Record<string, unknown>>)[field] : nodes[i]) as Record<string, unknown>;
    node.workflow_id = ids.get(r.key);
  }
  return { ...def, nodes };
};

type Decision = { action: ImportAction; target: WorkflowRow | null };

/**
 * What importing would do, decided from this deployment's workflows and nothing written. A
 * workflow whose definition is already here — under its name, or a `name (n)` an earlier
 * rename gave it — is `unchanged` whatever the policy, which makes importing the same bundle
 * again change nothing. Otherwise a name in use is a conflict that the policy settles: `skip`
 * keeps the existing workflow, `new_version` saves the bundle's definition as its next version,
 * `rename` creates the workflow as `name (2)` (or the next free number).
 */
export async function planImport(db: DB, ownerId: number, items: Item[], policy: Policy) {
  const existing = await db
    .select()
    .from(workflows)
    .where(and(eq(workflows.ownerId, ownerId), isNull(workflows.deletedAt)))
    .all();
  const byName = new Map<string, WorkflowRow>();
  for (const w of existing) if ((byName.get(w.name)?.id ?? 0) < w.id) byName.set(w.name, w);
  const variants = (name: string) =>
    existing.filter((w) => w.name === name || (w.name.startsWith(`${name} (`) && /^ \(\d+\)$/.test(w.name.slice(name.length))));
  // Subchain targets: an existing workflow's id, or a negative stand-in for one this import creates
  // (equal to no stored id, so nothing that starts a new workflow is taken for an existing one).
  const ids = new Map<string, number>();
  const decided = new Map<string, Decision>();
  const decide = (it: Item, compare: boolean) => {
    // A renamed copy differs from the bundle in its name only, by design.
    const same = compare
      ? variants(it.source.name).find((w) => diffDefinitions(w as Definition, { ...withTargets(it.current, ids), name: w.name }).identical)
      : undefined;
    const taken = byName.get(it.source.name);
    const d: Decision = same
      ? { action: 'unchanged', target: same }
      : taken && policy !== 'rename'
        ? { action: policy === 'skip' ? 'skipped' : 'new_version', target: taken }
        : { action: 'created', target: null };
    decided.set(it.source.key, d);
    ids.set(it.source.key, d.target?.id ?? -1 - decided.size);
  };
  // Identity needs the targets' ids, so it is settled from the leaves up: a workflow is compared
  // once every workflow it starts is decided. Workflows in a cycle of subchains are decided last,
  // without the comparison.
  for (let progress = true; progress; ) {
    progress = false;
    for (const it of items)
      if (!decided.has(it.source.key) && it.current.refs.every((r) => ids.has(r.key))) {
        decide(it, true);
        progress = true;
      }
  }
  for (const it of items) if (!decided.has(it.source.key)) decide(it, false);

  const names = new Set(existing.map((w) => w.name));
  const finalNames = new Map<string, string>();
  for (const it of items) {
    const d = decided.get(it.source.key)!;
    if (d.target) {
      finalNames.set(it.source.key, d.action === 'new_version' ? it.source.name : d.target.name);
      continue;
    }
    let name = it.source.name;
    for (let n = 2; names.has(name); n++) name = `${it.source.name} (${n})`;
    names.add(name);
    finalNames.set(it.source.key, name);
    if (name !== it.source.name) d.action = 'renamed';
  }
  // For the diff shown to a person, a new target is named rather than given its stand-in number.
  const shown = new Map<string, unknown>(
    items.map((it) => [it.source.key, decided.get(it.source.key)!.target?.id ?? `(new) ${finalNames.get(it.source.key)}`]),
  );
  const plan: PlanItem[] = items.map((it) => {
    const d = decided.get(it.source.key)!;
    return {
      key: it.source.key,
      name: it.source.name,
      action: d.action,
      final_name: finalNames.get(it.source.key)!,
      workflow_id: d.target?.id ?? null,
      version: d.target ? d.target.version + (d.action === 'new_version' ? 1 : 0) : it.history.length + 1,
      diff: d.target && d.action !== 'unchanged' ? diffDefinitions(d.target as Definition, withTargets(it.current, shown)) : null,
    };
  });
  return { plan, items, targets: new Map(items.map((it) => [it.source.key, decided.get(it.source.key)!.target])) };
}

/**
 * Writes a plan in one D1 batch: everything or nothing. Ids of workflows this batch creates are
 * only known inside it, so they are named in SQL by their (new, unique) name; their rows go
 * first, and every definition that starts one of them gets that id with json_set afterwards.
 * A new version is written only on top of the version the plan read: if another write got there
 * first, the version row's primary key refuses it and the whole batch with it (409).
 */
export async function applyImport(db: DB, meta: RequestMeta, ownerId: number, planned: Awaited<ReturnType<typeof planImport>>) {
  const { plan, items, targets } = planned;
  const newId = (name: string) =>
    sql`(SELECT max(id) FROM workflows WHERE owner_id = ${ownerId} AND name = ${name} AND deleted_at IS NULL)`;
  const idOf = new Map<string, number | SQL>();
  for (const p of plan) idOf.set(p.key, p.workflow_id ?? newId(p.final_name));
  /** The nodes JSON with every subchain pointing at its target here, as SQL (json_set over the bound JSON). */
  const nodesSql = (def: Checked, base: SQL = sql`${JSON.stringify(def.nodes)}`): SQL =>
    def.refs.reduce<SQL>((acc, r) => sql`json_set(${acc}, ${jsonPath(r.path)}, ${idOf.get(r.key)!})`, base);

  const head: Stmt[] = [];
  const rest: Stmt[] = [];
  plan.forEach((p, i) => {
    const it = items[i]!;
    const def = it.current;
    const id = idOf.get(p.key)!;
    const audit = (version: number) =>
      auditInsert(db, meta, {
        action: 'workflow.import',
        targetType: 'workflow',
        targetId: typeof id === 'number' ? id : sql`CAST(${id} AS TEXT)`,
        details: { action: p.action, key: p.key, version },
      });
    if (p.action === 'created' || p.action === 'renamed') {
      const version = it.history.length + 1;
      head.push(
        db.insert(workflows).values({
          ownerId,
          name: p.final_name,
          description: def.description,
          nodes: def.nodes,
          settings: def.settings,
          version,
        }),
      );
      if (def.refs.length) rest.push(rawRun(db, sql`UPDATE workflows SET nodes = ${nodesSql(def, sql`nodes`)} WHERE id = ${id}`));
      for (const [j, v] of [...it.history, def].entries())
        rest.push(
          rawRun(
            db,
            sql`INSERT INTO workflow_versions (workflow_id, version, name, description, nodes, settings, created_by)
            VALUES (${id}, ${j + 1}, ${j === it.history.length ? p.final_name : v.name}, ${v.description}, ${nodesSql(v)},
              ${JSON.stringify(v.settings)}, ${meta.actorUserId ?? ownerId})`,
          ),
        );
      rest.push(addTags(db, id, it.source.tags ?? []), audit(version), versionEvent(db, id, version, true));
    } else if (p.action === 'new_version') {
      const current = targets.get(p.key)!;
      const version = current.version + 1;
      rest.push(
        rawRun(
          db,
          sql`UPDATE workflows SET name = ${def.name}, description = ${def.description}, nodes = ${nodesSql(def)},
            settings = ${JSON.stringify(def.settings)}, version = ${version}, updated_at = ${Date.now()}
          WHERE id = ${current.id} AND version = ${current.version} AND deleted_at IS NULL`,
        ),
        rawRun(
          db,
          sql`INSERT INTO workflow_versions (workflow_id, version, name, description, nodes, settings, created_by)
          SELECT id, version, name, description, nodes, settings, ${meta.actorUserId ?? ownerId}
          FROM workflows WHERE id = ${current.id} AND version = ${version} AND deleted_at IS NULL`,
        ),
        audit(version),
        versionEvent(db, current.id, version),
      );
    }
  });
  const statements = [...head, ...rest];
  if (!statements.length) return;
  try {
    await runBatch(db, statements);
  } catch (err) {
    if (/UNIQUE constraint failed/.test(String(err)))
      throw new ApiError('conflict', 'A workflow changed while importing; nothing was imported. Plan again and retry');
    throw err;
  }
}

/** The ids the plan's workflows have now (after applyImport): created ones are found by their new names. */
export async function resolvePlan(db: DB, ownerId: number, plan: PlanItem[]): Promise<PlanItem[]> {
  return Promise.all(
    plan.map(async (p) => {
      if (p.workflow_id !== null) return p;
      const row = await db
        .select({ id: workflows.id, version: workflows.version })
        .from(workflows)
        .where(and(eq(workflows.ownerId, ownerId), eq(workflows.name, p.final_name), isNull(workflows.deletedAt)))
        .orderBy(sql`${workflows.id} DESC`)
        .get();
      return { ...p, workflow_id: row?.id ?? null, version: row?.version ?? p.version };
    }),
  );
}
