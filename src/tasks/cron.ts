import { log } from '../lib/log';
import { reconcileTasks } from './reconcile';

/**
 * The task runner's share of the minute Cron Trigger: repairs what a crash between two steps left
 * behind (a task the dispatcher never heard of, a lost queue message, a finished task still
 * holding its slot).
 */
export async function tasksCron(env: Env, now = Date.now()): Promise<void> {
  const tasks = await reconcileTasks(env, now);
  log(env.LOG_LEVEL, 'info', 'cron reconcile: tasks', { tasks });
}
