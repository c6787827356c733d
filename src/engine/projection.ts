import { sql } from 'drizzle-orm';
import { getDb, rawAll, rawRun } from '../db/client';
import type { WorkflowNode } from './definition';
import { sinkNodes } from './graph';
import type { DomainEvent } from '../lib/events';
import type { RunStore } from './storage';
import type { NodeRecord, RunMeta } from './types';

/**
 * Writes the outbox to D1 and hands its domain events to `sendEvents`, page by page in order.
 * Every statement is idempotent (updates of snapshots, inserts that do nothing on conflict), so a
 * flush that fails half-way, or runs twice after an eviction, leaves D1 exactly as one successful
 * flush would; an event sent twice that way is absorbed by its subscribers. A page's entries are
 * acknowledged only after D1 accepted its statements and the queue its events, so an event never
 * leaves before the rows it reports on. Returns the ids of node documents created, so the run can
 * link them into node outputs.
 */
export async function flushProjection(
  d1: D1Database,
  store: RunStore,
  meta: RunMeta,
  nodes: Map<string, NodeRecord>,
  sendEvents: (events: DomainEvent[]) => Promise<void>,
  defOf: (id: string) => WorkflowNode | undefined,
): Promise<Map<string, number>> {
  const db = getDb(d1);
  const created = new Map<string, number>();
  for (;;) {
    const batch = store.pending(40);
    if (batch.length === 0) return created;
    const statements = [];
    const documentIndex: [string, number][] = [];
    const events: DomainEvent[] = [];
    // Every run entry of a page writes the same row from the same state: one UPDATE says it all,
    // and the run's totals (a pass over its nodes) are added up once per page, not once per entry.
    let runWritten = false;
    for (const { entry } of batch) {
      if (entry.kind === 'event') {
        events.push(entry.event);
      } else if (entry.kind === 'run') {
        if (runWritten) continue;
        runWritten = true;
        const output = meta.status === 'succeeded' ? runOutput(meta, nodes) : null;
        const totals = [...nodes.values()].reduce(
          (t, n) => ({ tin: t.tin + n.tokensIn, tout: t.tout + n.tokensOut, retries: t.retries + Math.max(0, n.attempts - 1) }),
          { tin: 0, tout: 0, retries: 0 },
        );
        // Runs keep their spending as they go (every attempt, every loop iteration); older runs only had their nodes'.
        if (meta.spent) Object.assign(totals, { tin: meta.spent.tokensIn, tout: meta.spent.tokensOut });
        statements.push(
          rawRun(
            db,
            sql`UPDATE runs SET status = ${meta.status}, error = ${meta.error}, output = ${output ? JSON.stringify(output) : null},
            started_at = ${meta.startedAt}, finished_at = ${meta.finishedAt}, tokens_in = ${totals.tin}, tokens_out = ${totals.tout},
            cost_usd = ${meta.spent?.costUsd ?? 0}, retries = ${totals.retries}, updated_at = ${Date.now()} WHERE id = ${meta.runId}`,
          ),
        );
      } else if (entry.kind === 'node') {
        const n = nodes.get(entry.nodeId);
        const def = defOf(entry.nodeId);
        if (!n || !def) continue;
        statements.push(
          rawRun(
            db,
            sql`INSERT INTO run_nodes (run_id, node_id, type, status, attempts, started_at, finished_at, duration_ms, document_id,
              error, provider, model, tokens_in, tokens_out, cost_usd, context_compacted)
            VALUES (${meta.runId}, ${n.id}, ${def.type}, ${n.status}, ${n.attempts}, ${n.startedAt}, ${n.finishedAt},
              ${n.startedAt && n.finishedAt ? n.finishedAt - n.startedAt : null}, ${n.output?.documentId ?? null}, ${n.error},
              ${n.provider}, ${n.model}, ${n.tokensIn}, ${n.tokensOut}, ${n.costUsd ?? 0}, ${n.contextCompacted ? 1 : 0})
            ON CONFLICT (run_id, node_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
              started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
              document_id = excluded.document_id, error = excluded.error, provider = excluded.provider, model = excluded.model,
              tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
              context_compacted = excluded.context_compacted`,
          ),
        );
      } else if (entry.kind === 'attempt') {
        const a = entry.attempt;
        statements.push(
          rawRun(
            db,
            sql`INSERT INTO node_attempts (run_id, node_id, attempt, status, started_at, finished_at, latency_ms, delay_ms,
              error, retryable, provider, model, tokens_in, tokens_out, cost_usd)
            VALUES (${meta.runId}, ${a.nodeId}, ${a.attempt}, ${a.status}, ${a.startedAt}, ${a.finishedAt}, ${a.finishedAt - a.startedAt},
              ${a.delayMs}, ${a.error}, ${a.retryable === null ? null : a.retryable ? 1 : 0}, ${a.provider}, ${a.model}, ${a.tokensIn}, ${a.tokensOut},
              ${a.costUsd ?? null})
            ON CONFLICT (run_id, node_id, attempt) DO NOTHING`,
          ),
        );
      } else if (entry.kind === 'document') {
        const n = nodes.get(entry.nodeId);
        const def = defOf(entry.nodeId);
        // Entries carry the text they were made with (a loop may have moved on since); older ones take the node's.
        const title = entry.title ?? n?.output?.title ?? entry.nodeId;
        const text = entry.text ?? n?.output?.text;
        if (!n || text === undefined || !def) continue;
        const version = entry.version ?? 1;
        // The parent is the document of the first dependency that has one: the chain's link.
        const parentNode = def.depends_on.find((d) => nodes.get(d)?.output?.title !== undefined) ?? null;
        documentIndex.push([entry.nodeId, statements.length]);
        statements.push(
          // A later loop iteration is a new version of the node's document; a flush repeated after
          // a failure writes the same values again.
          rawAll<{ id: number }>(
            db,
            sql`INSERT INTO documents (owner_id, workflow_id, run_id, node_id, parent_id, kind, title, content, metadata)
            VALUES (${meta.ownerId}, ${meta.workflowId}, ${meta.runId}, ${n.id},
              (SELECT id FROM documents WHERE run_id = ${meta.runId} AND node_id = ${parentNode} AND kind = 'node'),
              'node', ${title}, ${text}, ${JSON.stringify(documentMetadata(meta, def.type, n))})
            ON CONFLICT (run_id, node_id) WHERE kind = 'node' DO UPDATE SET
              title = CASE WHEN ${version} >= documents.version THEN excluded.title ELSE documents.title END,
              content = CASE WHEN ${version} >= documents.version THEN excluded.content ELSE documents.content END,
              metadata = CASE WHEN ${version} >= documents.version THEN excluded.metadata ELSE documents.metadata END,
              version = max(documents.version, ${version}),
              updated_at = CASE WHEN ${version} > documents.version THEN ${Date.now()} ELSE documents.updated_at END
            RETURNING id`,
          ),
          rawRun(
            db,
            sql`INSERT INTO document_versions (document_id, version, title, content, created_by)
            SELECT id, ${version}, ${title}, ${text}, COALESCE(${entry.by ?? null}, owner_id) FROM documents WHERE run_id = ${meta.runId} AND node_id = ${n.id} AND kind = 'node'
            ON CONFLICT (document_id, version) DO NOTHING`,
          ),
        );
      }
    }
    if (statements.length) {
      const results = (await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]])) as unknown[];
      for (const [nodeId, index] of documentIndex) {
        const rows = results[index];
        const id = Array.isArray(rows) ? (rows[0] as { id?: unknown } | undefined)?.id : undefined;
        if (typeof id === 'number') created.set(nodeId, id);
      }
    }
    if (events.length) await sendEvents(events);
    store.acknowledge(batch.map((b) => b.id));
  }
}

/**
 * What a run's document records of its making (the provenance its readers are shown): the model
 * that wrote it, the knowledge chunks it cites, and the review decisions it went through.
 */
function documentMetadata(meta: RunMeta, type: string, n: NodeRecord) {
  return {
    node_type: type,
    workflow_version: meta.workflowVersion,
    provider: n.provider,
    model: n.model,
    tokens_in: n.tokensIn,
    tokens_out: n.tokensOut,
    citations: n.output?.citations ?? [],
    reviews: (meta.reviews ?? []).filter((r) => r.reviewed_node === n.id).map(({ key, ...r }) => r),
  };
}

/** A finished run's output: the outputs of its sink nodes that succeeded. */
export function runOutput(meta: RunMeta, nodes: Map<string, NodeRecord>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of sinkNodes(meta.nodes)) {
    const n = nodes.get(id);
    if (n?.status === 'succeeded' && n.output)
      out[id] = { text: n.output.text, ...(n.output.data ? { data: n.output.data } : {}), document_id: n.output.documentId ?? null };
  }
  return out;
}
