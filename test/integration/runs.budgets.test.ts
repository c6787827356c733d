import { beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * Issue 17, finding 5, through a real run: a branch whose `matches` pattern makes a backtracking
 * engine take exponential time (^(a|a)+$ on 30 characters took 7.5 s of CPU and blocked the run's
 * object) decides at once, and a pattern that cannot run in linear time fails its node with a
 * clear, non-retried error.
 */
let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('budget'))).token;
});

const gate = (pattern: string) => ({
  name: unique('redos'),
  nodes: [
    {
      id: 'gate',
      type: 'branch',
      condition: { left: '{{input.text}}', operator: 'matches', right: pattern },
      then: ['yes'],
      else: ['no'],
    },
    { id: 'yes', type: 'transform', depends_on: ['gate'], source: 'matched', operations: [{ op: 'trim' }] },
    { id: 'no', type: 'transform', depends_on: ['gate'], source: 'no match', operations: [{ op: 'strip_markdown' }] },
  ],
});

describe('branch patterns', () => {
  it('decide ^(a|a)+$ on 30 characters at once', async () => {
    const wf = await createWorkflow(token, gate('^(a|a)+$'));
    const started = Date.now();
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { text: `${'a'.repeat(30)}b` })).id);
    expect(run.status).toBe('succeeded');
    expect(run.nodes.find((n) => n.id === 'gate')!.output!.data).toEqual({ result: false, chosen: ['no'] });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fail the node, once and not retried, for a pattern that needs backtracking', async () => {
    const wf = await createWorkflow(token, gate('^(a+)\\1$'));
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { text: 'aaaa' })).id);
    expect(run.status).toBe('failed');
    const node = run.nodes.find((n) => n.id === 'gate')!;
    expect(node.attempts).toBe(1);
    expect(node.error).toMatch(/backreferences are not supported/);
  });
});
