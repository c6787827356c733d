/**
 * Splits a source's Markdown into overlapping passages of about TARGET characters, cut at
 * sentence and paragraph ends, never inside a word. Consecutive chunks share about OVERLAP
 * characters (whole sentences), so a fact that straddles a cut is still whole in one passage.
 * Each chunk records its offsets in the source and the heading it sits under, for citations.
 */
export const TARGET_CHARS = 800;
export const OVERLAP_CHARS = 160;

export type Chunk = { ordinal: number; text: string; start: number; end: number; heading: string | null };
type Segment = { start: number; end: number; heading: string | null; paragraphEnd: boolean };

/** Sentences (or, for a run-on sentence, word-boundary pieces of at most TARGET) with their offsets. */
function segments(text: string): Segment[] {
  const out: Segment[] = [];
  let heading: string | null = null;
  for (const para of text.matchAll(/[^\n]+(?:\n(?!\s*\n)[^\n]*)*/g)) {
    const body = para[0];
    const base = para.index;
    const h = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(body.split('\n')[0]!);
    if (h) heading = h[1]!.slice(0, 200);
    // A sentence runs to terminal punctuation followed by a space or the end ("example.com" and
    // "3.5" do not end one); a line break ends one too (list items, table rows).
    const sentences = [...body.matchAll(/(?:[^.!?\n]|[.!?]+(?!\s|$))+(?:[.!?]+(?=\s|$))?/g)].filter((m) => m[0].trim());
    sentences.forEach((m, i) => {
      let start = base + m.index;
      const end = start + m[0].length;
      while (start < end && /\s/.test(text[start]!)) start++;
      for (let s = start; s < end; ) {
        let e = Math.min(end, s + TARGET_CHARS);
        if (e < end) {
          const space = text.lastIndexOf(' ', e);
          if (space > s) e = space;
        }
        out.push({ start: s, end: e, heading, paragraphEnd: i === sentences.length - 1 && e === end });
        s = e;
        while (s < end && /\s/.test(text[s]!)) s++;
      }
    });
  }
  return out;
}

/** A chunk shorter than this does not end at a new heading: a lone short section joins the next. */
const MIN_CHARS = 200;

export function chunkText(text: string): Chunk[] {
  const segs = segments(text);
  const chunks: Chunk[] = [];
  let i = 0;
  while (i < segs.length) {
    let j = i;
    let newSection = false;
    // Grow to the target, but end at a new section once the chunk is big enough to stand alone:
    // a passage about one thing embeds and cites better than the end of one and the start of the next.
    while (j + 1 < segs.length && segs[j + 1]!.end - segs[i]!.start <= TARGET_CHARS) {
      if (segs[j + 1]!.heading !== segs[j]!.heading && segs[j]!.end - segs[i]!.start >= MIN_CHARS) {
        newSection = true;
        break;
      }
      j++;
    }
    if (j + 1 < segs.length && segs[j + 1]!.heading !== segs[j]!.heading) newSection = true;
    const start = segs[i]!.start;
    const end = segs[j]!.end;
    chunks.push({ ordinal: chunks.length, text: text.slice(start, end), start, end, heading: segs[j]!.heading });
    if (j + 1 >= segs.length) break;
    // Within a section the next chunk starts with the last sentences of this one that fit in the
    // overlap; a new section starts clean.
    let k = j + 1;
    if (!newSection) while (k - 1 > i && end - segs[k - 1]!.start <= OVERLAP_CHARS) k--;
    i = k;
  }
  return chunks;
}
