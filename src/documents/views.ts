import { z } from '@hono/zod-openapi';
import { toIso } from '../lib/time';
import type { DocumentRow } from './queries';

// The fields of a document's metadata that provenance reads. Metadata is JSON written by the run
// projection and the continuation; it is parsed, not trusted, as a row from an older version may
// lack a field.
const Citation = z.object({
  paragraph: z.number().int(),
  marker: z.number().int(),
  chunk_id: z.number().int(),
  source_id: z.number().int(),
  document_id: z.number().int().nullable(),
});
const Review = z.object({
  node_id: z.string(),
  decision: z.enum(['approve', 'reject', 'edit', 'request_changes']),
  comment: z.string().nullable(),
  actor_user_id: z.number().int().nullable(),
  timed_out: z.boolean(),
  at: z.number(),
  document_version: z.number().int().nullable(),
});
const ProvenanceFields = z.object({
  provider: z.string().nullish(),
  model: z.string().nullish(),
  source: z.string().nullish(),
  citations: z.array(Citation).catch([]),
  reviews: z.array(Review).catch([]),
});

/**
 * Where a document's text came from, computed from what is stored: who or what wrote it
 * (`origin`), the provider and model that generated it, and whether that was a language model —
 * the `local` provider is a set of deterministic text algorithms, not one, and a document typed
 * or uploaded by a person or made by a non-AI node has no model at all.
 */
export function provenance(d: DocumentRow) {
  const m = ProvenanceFields.safeParse(d.metadata);
  const fields = m.success ? m.data : { provider: null, model: null, source: null, citations: [], reviews: [] };
  // A person's document carries metadata they wrote themselves: it names no provider we can vouch for.
  const provider = d.kind === 'manual' ? null : (fields.provider ?? null);
  const model = d.kind === 'manual' ? null : (fields.model ?? null);
  const origin = d.kind === 'node' ? 'run' : d.kind === 'continuation' ? 'continuation' : fields.source === 'upload' ? 'upload' : 'user';
  // Only the run projection writes citations and reviews; a person's own metadata cannot claim them.
  const run = d.kind === 'node';
  return {
    origin,
    provider,
    model,
    language_model: provider !== null && provider !== 'local',
    edited: d.version > 1,
    citations: run ? fields.citations : [],
    reviews: run ? fields.reviews.map((r) => ({ ...r, at: toIso(r.at) })) : [],
  } as const;
}

export function documentSummary(d: DocumentRow) {
  return {
    id: d.id,
    title: d.title,
    excerpt: d.content.slice(0, 280),
    kind: d.kind,
    version: d.version,
    workflow_id: d.workflowId,
    run_id: d.runId,
    node_id: d.nodeId,
    parent_id: d.parentId,
    metadata: d.metadata,
    provenance: provenance(d),
    created_at: toIso(d.createdAt),
    updated_at: toIso(d.updatedAt),
  };
}

export function publicDocument(d: DocumentRow) {
  const { excerpt, ...rest } = documentSummary(d);
  void excerpt;
  return { ...rest, content: d.content };
}
