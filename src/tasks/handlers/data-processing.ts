import { aggregate, DataError } from '../aggregate';
import { effectInsert } from '../lifecycle';
import { tableOf, type Payloads } from '../payloads';
import { TaskError, type AttemptContext, type Outcome } from '../registry';

/** data_processing: aggregates the payload's table; its effect is the stored result. */
export async function dataProcessing({ db, task }: AttemptContext, p: Payloads['data_processing']): Promise<Outcome> {
  try {
    const result = aggregate(tableOf(p), p.group_by, p.fields);
    return {
      kind: 'succeeded',
      result,
      statements: [effectInsert(db, task.id, { effect: 'aggregated', detail: { rows: result.rows, groups: result.groups_total } })],
    };
  } catch (err) {
    if (err instanceof DataError) throw new TaskError(err.message, false);
    throw err;
  }
}
