import { z } from 'zod';
import { invalidField } from '../lib/errors';
import { taskHandler, TaskError } from '../tasks';
import { buildExport, ownedJob } from './jobs';

/** Made by the export routes for exports too large to build in the request (jobs.ts). */
const ExportPayload = z.object({ export_id: z.number().int().positive() }).strict();

export const exportsTaskHandlers = {
  /** document_export: renders one export job and stores the file in R2; the job turns ready with the task. */
  document_export: taskHandler({
    payload: ExportPayload,
    async check(c, p) {
      const row = await ownedJob(c.db, c.ownerId, p.export_id);
      if (row?.job.status !== 'queued')
        throw invalidField(
          [...c.at, 'export_id'],
          'not one of your exports waiting to be built; export through the documents or runs export routes',
        );
    },
    async run({ env, db, task }, p) {
      const row = await ownedJob(db, task.ownerId, p.export_id);
      if (!row) throw new TaskError(`export ${p.export_id} no longer exists`, false);
      if (row.job.status === 'ready') return { kind: 'succeeded', result: { export_id: row.job.id, bytes: row.job.bytes } };
      const { result, statements } = await buildExport(env, db, row.job);
      return { kind: 'succeeded', result, statements };
    },
  }),
};
