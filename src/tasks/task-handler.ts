import { cleanup } from './handlers/cleanup';
import { dataProcessing } from './handlers/data-processing';
import { webhookCall } from './handlers/webhook-call';
import { taskHandler } from './registry';
import { checkDataProcessing, checkWebhookCall, CleanupPayload, DataProcessingPayload, WebhookCallPayload } from './payloads';

/** The runner's own task types, which need no other feature. */
export const tasksTaskHandlers = {
  webhook_call: taskHandler({ payload: WebhookCallPayload, check: checkWebhookCall, run: webhookCall }),
  data_processing: taskHandler({ payload: DataProcessingPayload, check: checkDataProcessing, run: dataProcessing }),
  cleanup: taskHandler({ payload: CleanupPayload, run: cleanup }),
};
