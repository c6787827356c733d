import type { AutomationBody } from './schemas';

/** Built-in automation templates: each `automation` is a body ready for POST /api/v3/automations. */
export const AUTOMATION_TEMPLATES: {
  id: string;
  name: string;
  description: string;
  automation: Omit<AutomationBody, 'enabled'> & { enabled?: boolean };
}[] = [
  {
    id: 'content_generation',
    name: 'Content generation',
    description: 'Generate content for a topic when a high-priority content request arrives, then e-mail it',
    automation: {
      name: 'Content Generation Automation',
      description: 'Automatically generate content based on triggers',
      trigger: { type: 'event_based', conditions: { event_type: 'content_request', priority: 'high' } },
      actions: [
        { type: 'ai_generation', parameters: { prompt_template: 'Generate content for: {topic}', max_tokens: 1000, temperature: 0.7 } },
        { type: 'send_notification', parameters: { channel: 'email', template: 'content_generated' } },
      ],
      ai_decision_making: false,
      learning_enabled: false,
    },
  },
  {
    id: 'failed_run_alert',
    name: 'Failed run alert',
    description: 'When a workflow run fails, summarise the error and put it in your inbox',
    automation: {
      name: 'Failed run alert',
      trigger: { type: 'event_based', event: 'workflow.failed' },
      actions: [
        { type: 'ai_generation', parameters: { prompt_template: 'Explain this workflow failure briefly: {{trigger.error}}' } },
        {
          type: 'send_notification',
          parameters: { channel: 'in_app', subject: 'Run {{trigger.run_id}} failed', message: '{{actions.0.output.text}}' },
        },
      ],
      ai_decision_making: false,
      learning_enabled: false,
    },
  },
  {
    id: 'run_follow_up',
    name: 'Follow-up workflow',
    description: 'When one workflow completes, start another with the finished run id as input (set workflow ids first)',
    automation: {
      name: 'Follow-up workflow',
      trigger: {
        type: 'event_based',
        event: 'workflow.completed',
        conditions: { all: [{ path: 'trigger.workflow_id', op: 'eq', value: 1 }] },
      },
      actions: [{ type: 'run_workflow', parameters: { workflow_id: 2, input: { previous_run: '{{trigger.run_id}}' } } }],
      ai_decision_making: false,
      learning_enabled: false,
    },
  },
  {
    id: 'webhook_relay',
    name: 'Webhook relay',
    description: 'Relay trigger data to an external URL (a signed webhook_call task)',
    automation: {
      name: 'Webhook relay',
      trigger: { type: 'api_call' },
      actions: [{ type: 'call_webhook', parameters: { url: 'https://example.com/hooks/automation', method: 'POST', headers: {} } }],
      ai_decision_making: false,
      learning_enabled: false,
    },
  },
];
