import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, registerAndLogin, startRun, unique } from '../helpers';
import { allDone, createAutomation, waitForExecutions } from './automations-helpers';

let token: string;
beforeAll(async () => {
  await registerAndLogin(unique('eadmin')); // the first user of this file's database is admin
  token = (await registerAndLogin(unique('events'))).token;
});

const note = (message: string) => [{ type: 'send_notification', parameters: { channel: 'in_app', message } }];

describe('automations on task.failed and document.generated', () => {
  it('fires once when a background task fails for good', async () => {
    const a = await createAutomation(token, {
      name: 'task watcher',
      trigger: { type: 'event_based', event: 'task.failed' },
      actions: note('Task {{trigger.task_id}} failed: {{trigger.error}}'),
    });
    const tag = unique('af');
    const task = await api('POST', '/api/v3/background/tasks/submit', {
      token,
      body: { name: 'doomed', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/status-400` } },
    });
    expect(task.status).toBe(201);
    const [e] = await waitForExecutions(token, a.id, allDone(1));
    expect(e).toMatchObject({
      event_id: `task:${task.json.id}:failed`,
      status: 'succeeded',
      trigger_data: { event_type: 'task.failed', task_id: task.json.id, task_type: 'webhook_call' },
    });
  });

  it('fires per generated document of a run', async () => {
    const wf = await createWorkflow(token, {
      name: 'two docs',
      nodes: [
        { id: 'a', type: 'generate', prompt: 'One' },
        { id: 'b', type: 'generate', prompt: 'Two {{nodes.a.output}}', depends_on: ['a'] },
      ],
    });
    const a = await createAutomation(token, {
      name: 'doc watcher',
      trigger: {
        type: 'event_based',
        event: 'document.generated',
        conditions: { all: [{ path: 'trigger.workflow_id', op: 'eq', value: wf.id }] },
      },
      actions: note('Document {{trigger.document_id}} from node {{trigger.node_id}}'),
    });
    const run = await startRun(token, wf.id);
    const items = await waitForExecutions(token, a.id, allDone(2));
    expect(items.map((x) => x.trigger_data.node_id).sort()).toEqual(['a', 'b']);
    expect(items.every((x) => x.trigger_data.run_id === run.id && x.status === 'succeeded')).toBe(true);
  });

  it('fires on data changes: a workflow created, then updated', async () => {
    const a = await createAutomation(token, {
      name: 'workflow changes',
      trigger: {
        type: 'event_based',
        conditions: {
          any: [
            { path: 'trigger.event_type', op: 'eq', value: 'workflow.created' },
            { path: 'trigger.event_type', op: 'eq', value: 'workflow.updated' },
          ],
        },
      },
      actions: note('{{trigger.event_type}} {{trigger.name}} v{{trigger.version}}'),
    });
    const wf = await createWorkflow(token, { name: 'watched def', nodes: [{ id: 'a', type: 'generate', prompt: 'x' }] });
    expect((await api('PATCH', `/api/v3/workflows/${wf.id}`, { token, body: { name: 'renamed' } })).status).toBe(200);
    const items = await waitForExecutions(token, a.id, allDone(2));
    expect(items.map((x) => [x.event_id, x.trigger_data.event_type]).sort()).toEqual([
      [`workflow:${wf.id}:v1`, 'workflow.created'],
      [`workflow:${wf.id}:v2`, 'workflow.updated'],
    ]);
  });
});
