import { and, eq } from 'drizzle-orm';
import type { RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { notificationTemplates } from '../db/schema';
import { ApiError } from '../lib/errors';
import { renderDeep, renderText, TemplateError, type Scope } from './conditions';
import type { Action } from './schemas';
import type { AutomationRow, ExecutionRow } from './queries';
import { submitTasks } from '../tasks';
import { ProviderError, generateWithChain, providerChain, type AiEnv } from '../ai';
import { getWorkflow } from '../workflows';
import { launchRun } from '../runs';
import { sendNotifications } from '../notifications';
import { getUser } from '../auth';

/** A failed action: recorded in the execution log; the chain stops there. */
export class ActionError extends Error {
  override name = 'ActionError';
}

export type ActionOutcome = { output: unknown; effectRef: string | null };
type Ctx = { env: Env; db: DB; automation: AutomationRow; execution: ExecutionRow; index: number; scope: Scope };

/** Effects made through other layers carry this key, so a repeated attempt finds the first one's. */
const effectKey = (c: Ctx) => `automation:${c.execution.id}:${c.index}`;
const metaOf = (c: Ctx): RequestMeta => ({
  requestId: effectKey(c),
  ip: null,
  userAgent: null,
  actorUserId: c.automation.ownerId,
  actorApiKeyId: null,
});

/** The latest earlier output as text, for messages that just pass a result on. */
function previousText(scope: Scope): string {
  const last = scope.actions.findLast((a) => a !== undefined)?.output;
  if (last === undefined) return '';
  if (typeof last === 'object' && last !== null && 'text' in last && typeof last.text === 'string') return last.text;
  return typeof last === 'string' ? last : JSON.stringify(last);
}

async function aiGeneration(c: Ctx, p: Extract<Action, { type: 'ai_generation' }>['parameters']): Promise<ActionOutcome> {
  const env: AiEnv = c.env;
  const prompt = renderText(p.prompt_template, c.scope);
  try {
    const r = await generateWithChain(env, providerChain(env, p.provider), {
      messages: [
        ...(p.system ? [{ role: 'system' as const, content: renderText(p.system, c.scope) }] : []),
        { role: 'user' as const, content: prompt },
      ],
      model: p.model,
      maxTokens: p.max_tokens,
      temperature: p.temperature,
    });
    return {
      output: { text: r.text, provider: r.provider, model: r.model, tokens_in: r.tokensIn, tokens_out: r.tokensOut },
      effectRef: null,
    };
  } catch (err) {
    if (err instanceof ProviderError) throw new ActionError(`no AI provider could answer: ${err.message}`);
    throw err;
  }
}

/**
 * Sends through the notifications layer. `template` names one of the owner's notification
 * templates (rendered with the trigger data and `output`, the previous action's text); when the
 * owner has none by that name, a built-in message carries the previous output instead.
 */
async function sendNotification(c: Ctx, p: Extract<Action, { type: 'send_notification' }>['parameters']): Promise<ActionOutcome> {
  const owner = await getUser(c.db, c.automation.ownerId);
  if (!owner) throw new ActionError('the automation owner no longer exists');
  const recipient = p.recipient
    ? renderText(p.recipient, c.scope)
    : p.channel === 'email'
      ? owner.email
      : p.channel === 'in_app' || p.channel === 'push'
        ? String(owner.id)
        : null;
  if (!recipient) throw new ActionError(`a ${p.channel} notification needs parameters.recipient`);
  const template = p.template
    ? await c.db
        .select()
        .from(notificationTemplates)
        .where(
          and(
            eq(notificationTemplates.ownerId, owner.id),
            eq(notificationTemplates.name, p.template),
            eq(notificationTemplates.channel, p.channel),
          ),
        )
        .get()
    : undefined;
  const output = previousText(c.scope);
  const variables = Object.fromEntries(
    Object.entries({ ...c.scope.trigger, output, automation: c.automation.name })
      .filter(([, v]) => v !== null && typeof v !== 'object')
      .map(([k, v]) => [k, String(v).slice(0, 10_000)]),
  );
  const content = template
    ? { template_id: template.id, variables }
    : {
        subject: p.subject ? renderText(p.subject, c.scope) : `${c.automation.name}: ${p.template ?? 'automation result'}`.slice(0, 200),
        message: (p.message ? renderText(p.message, c.scope) : output || `Automation "${c.automation.name}" ran.`).slice(0, 10_000),
      };
  try {
    const { rows } = await sendNotifications(
      c.env,
      c.db,
      metaOf(c),
      { userId: owner.id, role: owner.role },
      { channel: p.channel, recipients: [{ recipient }], priority: 'normal', data: { automation_execution: c.execution.id }, ...content },
      () => ['recipient'],
    );
    return {
      output: { deliveries: rows.map((r) => ({ id: r.id, status: r.status })), template: template ? template.name : null },
      effectRef: `notification:${rows[0]?.id ?? ''}`,
    };
  } catch (err) {
    if (err instanceof ApiError)
      throw new ActionError(`the notification was refused: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}`);
    throw err;
  }
}

async function runWorkflow(c: Ctx, p: Extract<Action, { type: 'run_workflow' }>['parameters']): Promise<ActionOutcome> {
  const workflow = await getWorkflow(c.db, c.automation.ownerId, p.workflow_id);
  if (!workflow) throw new ActionError(`workflow ${p.workflow_id} not found`);
  try {
    const { runId } = await launchRun(c.env, c.db, metaOf(c), {
      workflow,
      ownerId: c.automation.ownerId,
      input: renderDeep(p.input, c.scope),
      idempotencyKey: effectKey(c),
    });
    return { output: { run_id: runId, workflow_id: p.workflow_id }, effectRef: `run:${runId}` };
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw new ActionError(err.message);
    throw err;
  }
}

async function submit(
  c: Ctx,
  type: 'workflow_run' | 'webhook_call' | 'data_processing' | 'cleanup',
  payload: Record<string, unknown>,
  priority: 'low' | 'normal' | 'high' | 'critical',
): Promise<ActionOutcome> {
  try {
    const [s] = await submitTasks(c.env, c.db, metaOf(c), c.automation.ownerId, [
      {
        name: `${c.automation.name} #${c.execution.id} action ${c.index}`.slice(0, 200),
        task_type: type,
        priority,
        payload,
        delay_seconds: 0,
        timeout_seconds: 300,
        max_retries: 3,
        idempotency_key: effectKey(c),
      },
    ]);
    return { output: { task_id: s!.task.id, task_type: type }, effectRef: `task:${s!.task.id}` };
  } catch (err) {
    if (err instanceof ApiError && err.status < 500)
      throw new ActionError(`the task was refused: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}`);
    throw err;
  }
}

/** Runs one action. Template errors and refusals become ActionError; infrastructure errors propagate (the task retries). */
export async function runAction(c: Ctx, action: Action): Promise<ActionOutcome> {
  try {
    switch (action.type) {
      case 'ai_generation':
        return await aiGeneration(c, action.parameters);
      case 'send_notification':
        return await sendNotification(c, action.parameters);
      case 'run_workflow':
        return await runWorkflow(c, action.parameters);
      case 'submit_task':
        return await submit(c, action.parameters.task_type, renderDeep(action.parameters.payload, c.scope), action.parameters.priority);
      case 'call_webhook': {
        // The webhook_call task checks the URL against the SSRF policy again when it sends.
        const { url, method, headers, body } = action.parameters;
        return await submit(
          c,
          'webhook_call',
          {
            url: renderText(url, c.scope),
            method,
            headers: renderDeep(headers, c.scope),
            body: renderDeep(body ?? c.scope.trigger, c.scope),
          },
          'normal',
        );
      }
    }
  } catch (err) {
    if (err instanceof TemplateError) throw new ActionError(err.message);
    throw err;
  }
}
