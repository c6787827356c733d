import type { TaskType } from '../../db/schema';
import type { Payloads } from '../payloads';
import { automationFire, automationRun } from './automation-run';
import { cleanup } from './cleanup';
import { dataProcessing } from './data-processing';
import { mlTrain } from './ml-train';
import { notificationDelivery } from './notification-delivery';
import type { AttemptContext, Outcome } from './types';
import { webhookCall } from './webhook-call';
import { workflowRun } from './workflow-run';

/** One real handler per task type; notification and ML types join here as those layers land. */
export const HANDLERS: { [K in TaskType]: (ctx: AttemptContext, payload: Payloads[K]) => Promise<Outcome> } = {
  workflow_run: workflowRun,
  webhook_call: webhookCall,
  data_processing: dataProcessing,
  cleanup,
  notification_delivery: notificationDelivery,
  ml_train: mlTrain,
  automation_run: automationRun,
  automation_fire: automationFire,
};

export { TaskError } from './types';
export type { AttemptContext, Outcome } from './types';
