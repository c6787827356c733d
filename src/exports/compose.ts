import { and, asc, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { documents } from '../db/schema';
import { type DocumentRow, getDocument } from '../documents';
import { ApiError } from '../lib/errors';

export type ExportScope = 'document' | 'run_final' | 'run_all';
export type Composed = { title: string; markdown: string };

/** Markdown that opens with its own top heading keeps it; otherwise the title becomes one. */
const titled = (title: string, content: string) => (/^#\s/.test(content.trimStart()) ? content : `# ${title}\n\n${content}`);

/**
 * A run's documents as D1 holds them (the run object's projection): the ones its nodes wrote, in
 * the order they were written. Continuations and edits of them are documents of their own and
 * versions, not part of the run's output.
 */
export async function runDocuments(db: DB, ownerId: number, runId: number): Promise<DocumentRow[]> {
  return db
    .select()
    .from(documents)
    .where(and(eq(documents.runId, runId), eq(documents.ownerId, ownerId), eq(documents.kind, 'node')))
    .orderBy(asc(documents.id))
    .all();
}

/**
 * What an export holds, as Markdown. A document: its text as stored (the Markdown export is that,
 * byte for byte; the other formats put the title on top when the text has no top heading). A
 * run's final document: the last one its nodes wrote. All of a run's documents: each under its
 * title as a top heading, in order, separated by rules.
 */
export async function compose(
  db: DB,
  ownerId: number,
  what: { scope: 'document'; documentId: number } | { scope: 'run_final' | 'run_all'; runId: number; runTitle: string },
  format: string,
): Promise<Composed> {
  if (what.scope === 'document') {
    const doc = await getDocument(db, ownerId, what.documentId);
    if (!doc) throw new ApiError('not_found', 'Document not found');
    return { title: doc.title, markdown: format === 'md' ? doc.content : titled(doc.title, doc.content) };
  }
  const docs = await runDocuments(db, ownerId, what.runId);
  const last = docs.at(-1);
  if (!last) throw new ApiError('conflict', 'This run has produced no document yet');
  if (what.scope === 'run_final') return { title: last.title, markdown: format === 'md' ? last.content : titled(last.title, last.content) };
  return { title: what.runTitle, markdown: docs.map((d) => titled(d.title, d.content)).join('\n\n---\n\n') };
}
