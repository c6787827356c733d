import { toIso } from '../lib/time';
import type { BaseRow, ChunkRow, SourceRow } from './queries';

export const publicBase = (b: BaseRow, sourceCount: number) => ({
  id: b.id,
  name: b.name,
  description: b.description,
  embedding: b.embedding,
  source_count: sourceCount,
  created_at: toIso(b.createdAt),
  updated_at: toIso(b.updatedAt),
});

export const publicSource = (s: SourceRow) => ({
  id: s.id,
  knowledge_base_id: s.baseId,
  kind: s.kind,
  status: s.status,
  title: s.title,
  document_id: s.documentId,
  document_version: s.documentVersion,
  filename: s.filename,
  media_type: s.mediaType,
  bytes: s.bytes,
  characters: s.content.length,
  chunk_count: s.chunkCount,
  created_at: toIso(s.createdAt),
});

export const publicChunk = (c: ChunkRow, source: { title: string | null; documentId: number | null }) => ({
  chunk_id: c.id,
  source_id: c.sourceId,
  knowledge_base_id: c.baseId,
  document_id: source.documentId,
  title: source.title,
  heading: c.heading,
  ordinal: c.ordinal,
  text: c.text,
  start_offset: c.startOffset,
  end_offset: c.endOffset,
});
