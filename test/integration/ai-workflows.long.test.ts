import { beforeAll, describe, expect, it } from 'vitest';
import { validateJson } from '../../src/engine/json-schema';
import { api, registerAndLogin, type RunJson, unique, waitForRun } from '../helpers';

/*
 * The long_document template, built only from the composer's parts: structured outline → map over
 * its sections (each with its siblings' summaries and the glossary) → stitch → consistency loop
 * with a structured verdict → title. It runs offline on the local provider, and against the
 * scripted OpenAI-compatible fake, which answers json_schema requests with schema-valid objects.
 */

let token: string;
beforeAll(async () => {
  await registerAndLogin(unique('admin'));
  token = (await registerAndLogin(unique('longdoc'))).token;
});

type Stats = { calls: number; prompts: string[]; response_formats: ({ type: string; json_schema: { name: string } } | null)[] };
const stats = async (tag: string): Promise<Stats> => (await fetch(`http://llm.test/stats?tag=${tag}`)).json();
const node = (run: RunJson, id: string) =>
  run.nodes.find((n) => n.id === id)! as RunJson['nodes'][number] & { output: { text: string; data: Record<string, any> } };

async function runTemplate(body: Record<string, unknown>) {
  const created = await api('POST', '/api/v3/ai-workflows', {
    token,
    body: { name: unique('long'), template_name: 'long_document', ...body },
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const exec = await api('POST', `/api/v3/ai-workflows/${created.json.id}/execute`, { token });
  expect(exec.status, JSON.stringify(exec.json)).toBe(201);
  const wf = await api('GET', `/api/v3/workflows/${created.json.workflow_id}`, { token });
  return { run: await waitForRun(token, created.json.workflow_id, exec.json.id), nodes: wf.json.nodes as any[] };
}

describe('the long_document template', () => {
  it('runs end to end offline: one section per outline entry, stitched under the title, revised, titled', async () => {
    const { run, nodes } = await runTemplate({ ai_provider: 'local', input_data: { topic: 'tides and the moon', sections: 4 } });
    expect(run.status, JSON.stringify(run.nodes.map((n) => [n.id, n.status, n.error]))).toBe('succeeded');
    const outline = node(run, 'outline').output.data;
    expect(validateJson(nodes[0].output_schema, outline)).toEqual({ valid: true });
    expect(outline.sections).toHaveLength(4);
    const sections = node(run, 'sections').output.data;
    expect(sections).toMatchObject({ count: 4, succeeded: 4, failed: 0 });
    const stitched = node(run, 'stitch').output.text;
    expect(stitched.startsWith(`# ${outline.title}`)).toBe(true);
    for (const item of sections.items) expect(stitched).toContain(item.text.trim().slice(0, 40));
    const loop = node(run, 'consistency').output.data;
    expect(loop.iterations).toBeGreaterThanOrEqual(1);
    expect(loop.iterations).toBeLessThanOrEqual(3);
    expect(node(run, 'title').output.text.length).toBeGreaterThan(0);
    // Every generated document says what wrote it: the local provider, not a language model.
    for (const id of ['revise', 'title']) {
      const doc = await api('GET', `/api/v3/documents/${node(run, id).output.document_id}`, { token });
      expect(doc.json.provenance).toMatchObject({ origin: 'run', provider: 'local', language_model: false });
    }
  });

  it('against a language model: the outline and the verdict are structured calls, each section sees its siblings and the glossary', async () => {
    const tag = unique('longfake');
    const { run } = await runTemplate({ ai_provider: 'openai', model: `json-${tag}`, input_data: { topic: 'tides', sections: 3 } });
    expect(run.status, JSON.stringify(run.nodes.map((n) => [n.id, n.status, n.error]))).toBe('succeeded');
    const s = await stats(tag);
    // outline + 3 sections + revise + check (the fake's verdict is consistent) + title
    expect(s.calls).toBe(7);
    expect(s.response_formats.filter(Boolean).map((f) => f!.json_schema.name)).toEqual(['outline', 'check']);
    const outline = node(run, 'outline').output.data;
    const sectionPrompts = s.prompts.filter((p) => p.startsWith('You are writing one section of'));
    expect(sectionPrompts).toHaveLength(3);
    for (const [i, section] of outline.sections.entries()) {
      const prompt = sectionPrompts.find((p) => p.includes(`Write section ${i}: "${section.heading}"`));
      expect(prompt, `section ${i}`).toBeDefined();
      expect(prompt).toContain(JSON.stringify(outline.sections));
      expect(prompt).toContain(JSON.stringify(outline.glossary));
    }
    expect(node(run, 'consistency').output.data).toMatchObject({ iterations: 1, stopped: 'condition' });
  });
});
