import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { performEffect } from '../../src/runs/effects';
import { createWorkflow, poll, registerAndLogin, releaseLlm, type RunJson, startRun, unique, waitForRun } from '../helpers';

/*
 * notify and task nodes: their effects go through the notifications service and the background
 * task layer with the owner's own rules, once per node attempt. The engine asks again with the
 * same key after an eviction or a lost answer; asking twice here (and after a crash between
 * storing a delivery and handing it to the task layer) shows what that does: nothing more.
 */

let token: string;
let userId: number;
let username: string;
beforeAll(async () => {
  // The first account of a database is its administrator, whom the relay rules do not limit.
  await registerAndLogin(unique('admin'));
  username = unique('effects');
  const u = await registerAndLogin(username);
  token = u.token;
  userId = u.user.id;
});

const count = async (sql: string, ...args: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...args)
    .first<{ n: number }>())!.n;
const nodeOf = (run: RunJson, id: string) =>
  run.nodes.find((n) => n.id === id)! as RunJson['nodes'][number] & { output: { text: string; data: Record<string, any> } };

describe('notify nodes', () => {
  it('send one in-app notification with the run’s values; its output is the delivery', async () => {
    const topic = unique('tides');
    const wf = await createWorkflow(token, {
      name: 'tell me',
      settings: { provider: 'local' },
      nodes: [
        { id: 'draft', type: 'generate', prompt: 'Write about {{input.topic}}' },
        {
          id: 'tell',
          type: 'notify',
          depends_on: ['draft'],
          channel: 'in_app',
          recipient: '{{input.who}}',
          subject: 'Draft ready: {{input.topic}}',
          message: 'Run {{run.id}} wrote "{{nodes.draft.title}}"',
        },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic, who: username })).id);
    expect(run.status).toBe('succeeded');
    const tell = nodeOf(run, 'tell');
    expect(tell.output.data.deliveries).toHaveLength(1);
    const delivery = tell.output.data.deliveries[0];
    expect(delivery).toMatchObject({ recipient: username, delivery_id: expect.any(Number) });
    expect(tell.output.text).toBe(`in_app to ${username}: delivery ${delivery.delivery_id} ${delivery.status}`);
    const row = await env.DB.prepare('SELECT subject, body, batch_id FROM notification_deliveries WHERE id = ?')
      .bind(delivery.delivery_id)
      .first<{ subject: string; body: string; batch_id: string }>();
    expect(row).toMatchObject({ subject: `Draft ready: ${topic}`, batch_id: `run:${run.id}:tell:1` });
    expect(row!.body).toMatch(new RegExp(`^Run ${run.id} wrote "`));
    expect(await count('SELECT count(*) AS n FROM notification_deliveries WHERE batch_id = ?', `run:${run.id}:tell:1`)).toBe(1);
  });

  it('asked again with the same key, sends nothing more — even after a crash before the task was made', async () => {
    const key = `run:${unique('k')}:tell:1`;
    const effect = {
      kind: 'notify' as const,
      channel: 'in_app',
      recipient: username,
      subject: 'once',
      message: 'only once',
      templateId: undefined,
      variables: undefined,
    };
    const first = await performEffect(env, userId, key, effect);
    const again = await performEffect(env, userId, key, effect);
    expect(again).toEqual(first);
    // A crash between storing the delivery and handing it to the task layer: the next ask hands it over.
    const id = (first as unknown as { data: { deliveries: { delivery_id: number }[] } }).data.deliveries[0]!.delivery_id;
    const task = await env.DB.prepare('SELECT task_id FROM notification_deliveries WHERE id = ?').bind(id).first<{ task_id: number }>();
    await env.DB.prepare('UPDATE notification_deliveries SET task_id = NULL WHERE id = ?').bind(id).run();
    await performEffect(env, userId, key, effect);
    expect(await count('SELECT count(*) AS n FROM notification_deliveries WHERE batch_id = ?', key)).toBe(1);
    expect(await count('SELECT count(*) AS n FROM tasks WHERE idempotency_key = ?', `notification:${id}`)).toBe(1);
    const after = await env.DB.prepare('SELECT task_id FROM notification_deliveries WHERE id = ?').bind(id).first<{ task_id: number }>();
    expect(after!.task_id).toBe(task!.task_id);
  });

  it('a refused send fails the node with the reason (the service sender is not a relay)', async () => {
    const wf = await createWorkflow(token, {
      name: 'relay',
      nodes: [{ id: 'tell', type: 'notify', channel: 'email', recipient: 'someone@example.com', subject: 'hi', message: 'hello' }],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, {})).id);
    expect(run.status).toBe('failed');
    expect(nodeOf(run, 'tell').error).toMatch(/^notify refused: /);
    expect(await count('SELECT count(*) AS n FROM notification_deliveries WHERE batch_id = ?', `run:${run.id}:tell:1`)).toBe(0);
  });
});

describe('task nodes', () => {
  it('submit a task from the run’s values, wait for it and output its result', async () => {
    const wf = await createWorkflow(token, {
      name: 'crunch',
      nodes: [
        {
          id: 'crunch',
          type: 'task',
          task_type: 'data_processing',
          payload: { data: 'k,v\na,{{input.a}}\na,3\nb,4', group_by: ['k'], fields: ['v'] },
        },
        {
          id: 'after',
          type: 'transform',
          depends_on: ['crunch'],
          source: 'groups: {{nodes.crunch.output.result.groups[0].key.k}}',
          operations: [{ op: 'trim' }],
        },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { a: 1 })).id);
    expect(run.status).toBe('succeeded');
    const crunch = nodeOf(run, 'crunch');
    expect(crunch.output.data).toMatchObject({ task_type: 'data_processing', status: 'succeeded' });
    expect(crunch.output.data.result.groups.map((g: any) => [g.key.k, g.fields.v.mean])).toEqual([
      ['a', 2],
      ['b', 4],
    ]);
    expect(nodeOf(run, 'after').output.text).toBe('groups: a');
    expect(await count('SELECT count(*) AS n FROM tasks WHERE idempotency_key = ?', `run:${run.id}:crunch:1`)).toBe(1);
  });

  it('with wait: false, go on once the task is queued; asking again makes no second task', async () => {
    const wf = await createWorkflow(token, {
      name: 'fire and forget',
      nodes: [{ id: 'bg', type: 'task', task_type: 'cleanup', payload: {}, wait: false }],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, {})).id);
    expect(run.status).toBe('succeeded');
    const taskId = nodeOf(run, 'bg').output.data.task_id;
    const key = `run:${run.id}:bg:1`;
    const again = await performEffect(env, userId, key, { kind: 'task', taskType: 'cleanup', payload: {}, wait: false });
    expect(again).toMatchObject({ status: 'done', data: { task_id: taskId } });
    expect(await count('SELECT count(*) AS n FROM tasks WHERE idempotency_key = ?', key)).toBe(1);
  });

  it('a payload the task type refuses fails the node with the problems; a failed task fails it', async () => {
    const wf = await createWorkflow(token, {
      name: 'bad hook',
      nodes: [{ id: 'hook', type: 'task', task_type: 'webhook_call', payload: { url: 'http://169.254.169.254/latest' } }],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, {})).id);
    expect(run.status).toBe('failed');
    expect(nodeOf(run, 'hook').error).toMatch(/^task refused: Request validation failed; payload\.url: this URL may not be called/);
  });
});

describe('eviction', () => {
  it('a task node whose object is evicted while it waits makes no second task, and takes the result when it comes', async () => {
    const tag = unique('evicted');
    const key = unique('hold');
    const child = await createWorkflow(token, {
      name: 'slow child',
      settings: { fallback_providers: [] },
      nodes: [{ id: 'write', type: 'generate', provider: 'openai', model: `prompted-${tag}`, prompt: `[hold:${key}] Write it` }],
    });
    const parent = await createWorkflow(token, {
      name: 'waits for a task',
      nodes: [{ id: 'work', type: 'task', task_type: 'workflow_run', payload: { workflow_id: child.id, input: {} } }],
    });
    const started = await startRun(token, parent.id, {});
    const taskKey = `run:${started.id}:work:1`;
    await poll(
      () => count('SELECT count(*) AS n FROM runs WHERE workflow_id = ?', child.id),
      (n) => n === 1,
    );
    const stub = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${started.id}`));
    await runInDurableObject(stub, (_instance, state) => {
      try {
        state.abort('test: simulated eviction');
      } catch {
        // abort() throws inside the object by design
      }
    }).catch(() => undefined);
    // The fresh object polls (asking again with the same key) while the child still holds.
    await runDurableObjectAlarm(env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${started.id}`)));
    await releaseLlm(key);
    const run = await waitForRun(token, parent.id, started.id);
    expect(run.status).toBe('succeeded');
    expect(nodeOf(run, 'work').output.data).toMatchObject({ task_type: 'workflow_run', status: 'succeeded' });
    expect(await count('SELECT count(*) AS n FROM tasks WHERE idempotency_key = ?', taskKey)).toBe(1);
    expect(await count('SELECT count(*) AS n FROM runs WHERE workflow_id = ?', child.id)).toBe(1);
  });
});
