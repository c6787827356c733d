import { z } from '@hono/zod-openapi';
import { anyOfRequired } from '../lib/openapi';
import { RUN_STATUSES } from '../db/schema';
import { TEMPLATE_NAMES, WORKFLOW_TYPES } from './templates';
import { NodeSchema } from '../engine';
import { PROVIDERS } from '../ai';
import { RunSchema } from '../runs';

const InputValue = z.union([z.string().max(20_000), z.number(), z.boolean()]);
const InputData = z
  .record(z.string().max(64), InputValue)
  .refine((o) => Object.keys(o).length <= 20, { message: 'at most 20 parameters' })
  .openapi({
    description: "The template's parameters; stored and used as the input of every run",
    maxProperties: 20,
    example: { topic: 'AI Automation' },
  });

export const AiWorkflowCreateBody = z
  .strictObject({
    name: z.string().min(1).max(200).openapi({ example: 'Content Generation Workflow' }),
    description: z.string().max(2000).optional(),
    template_name: z
      .enum(TEMPLATE_NAMES)
      .optional()
      .openapi({ description: 'Which built-in template; defaults to `workflow_type`', example: 'content_generation' }),
    workflow_type: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: `One of ${WORKFLOW_TYPES.join(', ')}; must match the template's`, example: 'content_generation' }),
    input_data: InputData.default({}),
    ai_provider: z
      .enum(PROVIDERS)
      .optional()
      .openapi({ description: "Provider for every AI node; defaults to the deployment's AI_PROVIDER", example: 'openai' }),
    model: z.string().min(1).max(100).optional(),
  })
  .refine((b) => b.template_name !== undefined || b.workflow_type !== undefined, {
    message: 'template_name or workflow_type is required',
    path: ['template_name'],
  })
  .openapi('AiWorkflowCreateRequest', anyOfRequired('template_name', 'workflow_type'));

export const AiWorkflowParam = z.object({
  id: z
    .string()
    .max(40)
    .regex(/^ai_workflow_[1-9]\d{0,14}$/, 'expected an id like ai_workflow_1')
    .transform((s) => Number(s.slice('ai_workflow_'.length)))
    .openapi({ param: { name: 'id', in: 'path' }, example: 'ai_workflow_1' }),
});

export const AiWorkflowSchema = z
  .object({
    id: z.string().openapi({ example: 'ai_workflow_1' }),
    name: z.string(),
    description: z.string().nullable(),
    template_name: z.string(),
    workflow_type: z.string(),
    ai_provider: z.string(),
    model: z.string().nullable(),
    input_data: z.record(z.string(), z.unknown()),
    workflow_id: z.number().int().openapi({ description: 'The ordinary workflow it is; see /api/v3/workflows/{id}' }),
    workflow_version: z.number().int(),
    node_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi('AiWorkflow');

export const AiWorkflowDetailSchema = AiWorkflowSchema.extend({
  nodes: z.array(NodeSchema),
  runs: z.object({ total: z.number().int(), by_status: z.record(z.string(), z.number().int()) }),
}).openapi('AiWorkflowDetail');

export const AiExecutionSchema = RunSchema.extend({ ai_workflow_id: z.string() }).openapi('AiWorkflowExecution');

const ParamSchema = z.object({
  name: z.string(),
  type: z.enum(['string', 'integer']),
  required: z.boolean(),
  description: z.string(),
  default: z.union([z.string(), z.number()]).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

export const TemplateSchema = z
  .object({
    name: z.string(),
    workflow_type: z.string(),
    description: z.string(),
    requires_language_model: z.boolean().openapi({
      description:
        'Only a language model can do what this template promises: with the `local` provider it is refused (422 `unsupported_by_provider`)',
    }),
    parameters: z.array(ParamSchema),
    example_input: z.record(z.string(), z.union([z.string(), z.number()])),
    nodes: z.array(NodeSchema).openapi({ description: 'The nodes built from `example_input`' }),
  })
  .openapi('AiWorkflowTemplate');

const Counts = z.object({
  ai_workflows: z.number().int(),
  runs: z.number().int(),
  runs_by_status: z.record(z.enum(RUN_STATUSES), z.number().int()),
  tokens: z.object({ in: z.number().int(), out: z.number().int() }),
});

export const StatsSchema = z
  .object({
    totals: Counts,
    by_template: z.record(z.string(), Counts),
    by_provider: z.record(z.string(), z.object({ ai_workflows: z.number().int(), runs: z.number().int() })),
  })
  .openapi('AiWorkflowStats');
