import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * The loop node: its body runs again until the condition holds or max_iterations pass. The body
 * here is a transform that adds a mark to what the previous iteration wrote
 * ({{loop.previous.revise.output}}), so each iteration's output is known exactly.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('loop'))).token;
});

const revision = (until: string, extra: Record<string, unknown> = {}) => ({
  name: 'revise until done',
  nodes: [
    { id: 'draft', type: 'transform', source: 'Draft', operations: [{ op: 'trim' }] },
    {
      id: 'polish',
      type: 'loop',
      depends_on: ['draft'],
      body: ['revise'],
      until: { left: '{{nodes.revise.output}}', operator: 'eq', right: until },
      max_iterations: 5,
      ...extra,
    },
    {
      id: 'revise',
      type: 'transform',
      depends_on: ['draft'],
      source: '{{loop.previous.revise.output}}',
      operations: [
        { op: 'prepend', text: '{{nodes.draft.output}} {{loop.iteration}}' },
        { op: 'append', text: '!' },
      ],
    },
    { id: 'final', type: 'transform', depends_on: ['polish'], source: 'Final: {{nodes.revise.output}}', operations: [{ op: 'trim' }] },
  ],
});

const events = async (wfId: number, runId: number) =>
  (await api('GET', `/api/v3/workflows/${wfId}/runs/${runId}/events?after=0&limit=1000`, { token })).json.items as {
    type: string;
    node_id: string | null;
    data: Record<string, unknown>;
  }[];

describe('loop node', () => {
  it('stops when its condition holds; each iteration sees the previous one and is kept', async () => {
    // Iteration 1 writes "Draft 1!", 2 "Draft 2Draft 1!!", 3 "Draft 3Draft 2Draft 1!!!".
    const wf = await createWorkflow(token, revision('Draft 3Draft 2Draft 1!!!'));
    const started = await startRun(token, wf.id);
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status).toBe('succeeded');
    const loop = run.nodes.find((n) => n.id === 'polish')!;
    expect(loop.iteration).toBe(3);
    expect(loop.output!.data).toMatchObject({ iterations: 3, stopped: 'condition' });
    const history = loop.output!.data.history as { iteration: number; outputs: Record<string, { preview: string }> }[];
    expect(history.map((h) => h.outputs.revise!.preview)).toEqual(['Draft 1!', 'Draft 2Draft 1!!', 'Draft 3Draft 2Draft 1!!!']);
    // What follows the loop reads the last iteration.
    expect(run.nodes.find((n) => n.id === 'final')!.output!.text).toBe('Final: Draft 3Draft 2Draft 1!!!');
    // Each iteration is a version of the body node's document.
    const doc = run.nodes.find((n) => n.id === 'revise')!.output!.document_id!;
    const versions = await env.DB.prepare('SELECT version, content FROM document_versions WHERE document_id = ? ORDER BY version')
      .bind(doc)
      .all<{ version: number; content: string }>();
    expect(versions.results).toEqual([
      { version: 1, content: 'Draft 1!' },
      { version: 2, content: 'Draft 2Draft 1!!' },
      { version: 3, content: 'Draft 3Draft 2Draft 1!!!' },
    ]);
    // The stream shows every iteration.
    const log = await events(wf.id, started.id);
    expect(log.filter((e) => e.type === 'loop.iteration').map((e) => e.data.iteration)).toEqual([1, 2, 3]);
    expect(log.find((e) => e.type === 'loop.finished')?.data).toEqual({ iterations: 3, stopped: 'condition' });
  });

  it('at max_iterations goes on with the last iteration (on_max: continue), or fails (on_max: fail)', async () => {
    const goOn = await createWorkflow(token, revision('never', { max_iterations: 2 }));
    const run = await waitForRun(token, goOn.id, (await startRun(token, goOn.id)).id);
    expect(run.status).toBe('succeeded');
    expect(run.nodes.find((n) => n.id === 'polish')!.output!.data).toMatchObject({ iterations: 2, stopped: 'max_iterations' });
    expect(run.nodes.find((n) => n.id === 'final')!.output!.text).toBe('Final: Draft 2Draft 1!!');

    const strict = await createWorkflow(token, revision('never', { max_iterations: 2, on_max: 'fail' }));
    const failed = await waitForRun(token, strict.id, (await startRun(token, strict.id)).id);
    expect(failed.status).toBe('failed');
    expect(failed.nodes.find((n) => n.id === 'polish')!.error).toBe("the loop's condition did not hold after 2 iterations");
    expect(failed.nodes.find((n) => n.id === 'final')!.status).toBe('pending');
  });

  it('refuses, when saved, a body reached from outside, a nested loop, loop variables outside a body, and cycles', async () => {
    const def = revision('x');
    const cases: [string, unknown[], RegExp][] = [
      [
        'a node outside the body that depends on a body node',
        [...def.nodes, { id: 'peek', type: 'transform', depends_on: ['revise'], operations: [{ op: 'trim' }] }],
        /"revise" is in the body of loop "polish": depend on "polish" instead/,
      ],
      [
        'a loop inside a loop',
        [
          ...def.nodes.slice(0, 2),
          { id: 'revise', type: 'loop', depends_on: ['draft'], body: ['draft'], until: { left: 'a', operator: 'exists' } },
        ],
        /loops do not nest|in the body of loop/,
      ],
      [
        'loop variables outside a body',
        [
          ...def.nodes,
          { id: 'stray', type: 'transform', depends_on: ['polish'], source: '{{loop.iteration}}', operations: [{ op: 'trim' }] },
        ],
        /unknown template variable "\{\{loop\.iteration\}\}"/,
      ],
      [
        'a cycle outside a loop',
        [
          { id: 'a', type: 'transform', depends_on: ['b'], operations: [{ op: 'trim' }] },
          { id: 'b', type: 'transform', depends_on: ['a'], operations: [{ op: 'trim' }] },
        ],
        /dependency cycle among: a, b/,
      ],
    ];
    for (const [what, nodes, message] of cases) {
      const res = await api('POST', '/api/v3/workflows', { token, body: { name: what, nodes } });
      expectError(res, 400, 'validation_error');
      const messages = res.json.error.details.map((d: { message: string }) => d.message);
      expect(messages, what).toContainEqual(expect.stringMatching(message));
    }
  });
});
