import type { DB } from '../db/client';
import { invalidField } from '../lib/errors';
import { checkOutboundUrl } from '../lib/ssrf';
import type { AutomationBody } from './schemas';
import { outboundPolicy, validatePayload } from '../tasks';
import { getWorkflow } from '../workflows';

const templated = (v: unknown) => /\{\{|\{[A-Za-z0-9_]+\}/.test(JSON.stringify(v) ?? '');

/**
 * What the body's schema cannot see: workflows that are the owner's, webhook URLs that may be
 * called (checked again when sent), task payloads that their type accepts. Values with
 * placeholders are only known at run time and are checked then.
 */
export async function checkAutomation(env: Env, db: DB, ownerId: number, b: AutomationBody): Promise<void> {
  for (const [i, a] of b.actions.entries()) {
    const at = ['actions', i, 'parameters'];
    if (a.type === 'run_workflow' && !(await getWorkflow(db, ownerId, a.parameters.workflow_id)))
      throw invalidField([...at, 'workflow_id'], 'not one of your workflows');
    if (a.type === 'call_webhook' && !templated(a.parameters.url)) {
      const check = checkOutboundUrl(a.parameters.url, outboundPolicy(env));
      if (!check.ok) throw invalidField([...at, 'url'], `this URL may not be called: ${check.reason}`);
    }
    if (a.type === 'submit_task' && !templated(a.parameters.payload))
      await validatePayload(env, db, ownerId, a.parameters.task_type, a.parameters.payload, [...at, 'payload']);
  }
}
