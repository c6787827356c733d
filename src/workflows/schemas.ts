import { z } from '@hono/zod-openapi';
import { NodeSchema, NodesSchema, SettingsSchema } from '../engine';

export const WorkflowCreateBody = z
  .strictObject({
    name: z.string().min(1).max(200).openapi({ example: 'Blog post chain' }),
    description: z.string().max(2000).optional(),
    nodes: NodesSchema,
    settings: SettingsSchema.default({ concurrency: 4, timeout_seconds: 3600 }),
  })
  .openapi('WorkflowCreateRequest');

export const WorkflowPatchBody = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    nodes: NodesSchema.optional(),
    settings: SettingsSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' })
  .openapi('WorkflowPatchRequest');

export const WorkflowSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.number().int().openapi({ description: 'Incremented by every update; runs are pinned to the version they start with' }),
    nodes: z.array(NodeSchema),
    settings: SettingsSchema,
    owner_id: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Workflow');

export const WorkflowSummarySchema = WorkflowSchema.omit({ nodes: true, settings: true })
  .extend({ node_count: z.number().int() })
  .openapi('WorkflowSummary');
