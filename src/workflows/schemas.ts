import { z } from '@hono/zod-openapi';
import { RUN_STATUSES } from '../db/schema';
import { NodeSchema, NodesSchema, SettingsSchema } from '../engine';
import { jsonObject } from '../lib/json';
import { instantQuery, oneOfRequired } from '../lib/openapi';
import { PageQuery } from '../lib/pagination';
import { BULK_ACTIONS, MAX_BULK } from './bulk';
import { checkContextWindows } from './context-check';
import { BundleSchema } from './bundle';
import { POLICIES } from './import';
import { SORTS } from './search';
import { MAX_TAGS, Tag } from './tags';

const definitionFields = {
  name: z.string().min(1).max(200).openapi({ example: 'Blog post chain' }),
  description: z.string().max(2000).optional(),
  nodes: NodesSchema,
  settings: SettingsSchema.default({ concurrency: 4, timeout_seconds: 3600 }),
};

/** PUT: a whole new definition (tags are not part of it: they are changed with bulk tag/untag). */
export const WorkflowReplaceBody = z
  .strictObject(definitionFields)
  .superRefine((b, ctx) => checkContextWindows(b.nodes, b.settings, ctx))
  .openapi('WorkflowReplaceRequest');

export const WorkflowCreateBody = z
  .strictObject({ ...definitionFields, tags: z.array(Tag).max(MAX_TAGS).optional() })
  .superRefine((b, ctx) => checkContextWindows(b.nodes, b.settings, ctx))
  .openapi('WorkflowCreateRequest');

export const WorkflowPatchBody = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    nodes: NodesSchema.optional(),
    settings: SettingsSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' })
  .superRefine((b, ctx) => checkContextWindows(b.nodes, b.settings, ctx))
  // The refine above, in the document's own terms.
  .openapi('WorkflowPatchRequest', { minProperties: 1 });

export const WorkflowSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.number().int().openapi({ description: 'Incremented by every update; runs are pinned to the version they start with' }),
    nodes: z.array(NodeSchema),
    settings: SettingsSchema,
    tags: z.array(z.string()),
    archived: z.boolean().openapi({ description: 'Archived workflows are left out of lists unless `archived=true` or `all`' }),
    owner_id: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Workflow');

export const WorkflowSummarySchema = WorkflowSchema.omit({ nodes: true, settings: true })
  .extend({
    node_count: z.number().int(),
    last_run_status: z.enum(RUN_STATUSES).nullable().openapi({ description: "The newest run's status; null if never run" }),
  })
  .openapi('WorkflowSummary');

const commaList = (name: string, pattern: RegExp, description: string, example: string) =>
  z
    .string()
    .max(500)
    .regex(pattern, 'a comma-separated list')
    .optional()
    .openapi({ param: { name, in: 'query' }, description, example });

export const WorkflowListQuery = PageQuery.extend({
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'q', in: 'query' }, description: 'Text in the name or description (case-insensitive)' }),
  tag: commaList('tag', /^[^,]+(,[^,]+)*$/, 'Comma-separated tags; a workflow must have every one', 'marketing,weekly'),
  node_type: commaList('node_type', /^[a-z_]+(,[a-z_]+)*$/, 'Comma-separated node types; a workflow must use every one', 'generate,map'),
  created_after: instantQuery('created_after', 'Created at or after this instant'),
  created_before: instantQuery('created_before', 'Created before this instant'),
  updated_after: instantQuery('updated_after', 'Last changed at or after this instant'),
  updated_before: instantQuery('updated_before', 'Last changed before this instant'),
  last_run_status: z
    .enum([...RUN_STATUSES, 'none'])
    .optional()
    .openapi({ param: { name: 'last_run_status', in: 'query' }, description: "The newest run's status; `none`: never run" }),
  archived: z
    .enum(['false', 'true', 'all'])
    .default('false')
    .openapi({ param: { name: 'archived', in: 'query' }, description: 'Archived workflows only (`true`), or both (`all`)' }),
  sort: z
    .enum(SORTS)
    .default('created_at')
    .openapi({ param: { name: 'sort', in: 'query' } }),
  order: z
    .enum(['asc', 'desc'])
    .default('desc')
    .openapi({ param: { name: 'order', in: 'query' } }),
});

const Json = z.unknown();
const FieldChange = z.object({ field: z.string(), before: Json, after: Json }).openapi('FieldChange');
const NodeRef = z.object({ id: z.string(), type: z.string() });

export const DefinitionDiffSchema = z
  .object({
    identical: z.boolean(),
    fields: z.array(FieldChange).openapi({ description: '`name` and `description`, when they differ' }),
    settings: z.array(FieldChange).openapi({ description: 'Settings keys whose values differ' }),
    nodes: z.object({
      added: z.array(NodeRef),
      removed: z.array(NodeRef),
      changed: z.array(NodeRef.extend({ fields: z.array(FieldChange) })),
    }),
  })
  .openapi('DefinitionDiff');

export const VersionSummarySchema = z
  .object({
    version: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    node_count: z.number().int(),
    current: z.boolean(),
    run_count: z.number().int().openapi({ description: 'Runs pinned to this version' }),
    created_by: z.number().int(),
    created_at: z.string(),
  })
  .openapi('WorkflowVersionSummary');

export const VersionSchema = z
  .object({
    workflow_id: z.number().int(),
    version: z.number().int(),
    current: z.boolean(),
    name: z.string(),
    description: z.string().nullable(),
    nodes: z.array(NodeSchema),
    settings: SettingsSchema,
    created_by: z.number().int(),
    created_at: z.string(),
  })
  .openapi('WorkflowVersion');

export const VersionDiffSchema = DefinitionDiffSchema.extend({
  workflow_id: z.number().int(),
  from: z.number().int(),
  to: z.number().int(),
}).openapi('WorkflowVersionDiff');

const versionNumber = (name: string) =>
  z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name, in: 'path' }, example: 1 });

export const VersionParams = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
  version: versionNumber('version'),
});

export const DiffQuery = z.object({
  from: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'from', in: 'query' }, example: 1 }),
  to: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'to', in: 'query' }, description: 'Defaults to the current version', example: 2 }),
});

export const BulkBody = z
  .strictObject({
    action: z.enum(BULK_ACTIONS),
    ids: z
      .array(z.number().int().positive())
      .min(1)
      .max(MAX_BULK)
      .openapi({ example: [1, 2, 3] }),
    tags: z.array(Tag).min(1).max(MAX_TAGS).optional().openapi({ description: 'For tag and untag' }),
    input: jsonObject().optional().openapi({ description: 'For run: the one input every run starts with' }),
    idempotency_key: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'For run: repeating the request with the same key starts no second run of any workflow' }),
  })
  .openapi('WorkflowBulkRequest');

export const BulkResultSchema = z
  .object({
    action: z.enum(BULK_ACTIONS),
    results: z.array(
      z.object({
        id: z.number().int(),
        ok: z.boolean(),
        changed: z.boolean().openapi({ description: 'false when the workflow already was in the requested state' }),
        run_id: z.number().int().optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
    succeeded: z.number().int(),
    failed: z.number().int(),
  })
  .openapi('WorkflowBulkResult');

export const ExportQuery = z.object({
  ids: z
    .string()
    .max(2000)
    .regex(/^\d{1,12}(,\d{1,12})*$/, 'a comma-separated list of workflow ids')
    .optional()
    .openapi({ param: { name: 'ids', in: 'query' }, description: 'Workflows to export (default: all of yours)', example: '1,2' }),
  tag: Tag.optional().openapi({ param: { name: 'tag', in: 'query' }, description: 'Only workflows with this tag' }),
  versions: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({ param: { name: 'versions', in: 'query' }, description: 'Include every earlier version' }),
  format: z
    .enum(['json', 'yaml'])
    .default('json')
    .openapi({ param: { name: 'format', in: 'query' } }),
});

export const ImportBody = z
  .strictObject({
    bundle: BundleSchema.optional().openapi({ description: 'The bundle as JSON; or give `yaml`' }),
    yaml: z.string().max(1_000_000).optional().openapi({ description: 'The bundle as YAML text' }),
    policy: z.enum(POLICIES).default('skip').openapi({
      description:
        'When a workflow of the same name exists with another definition: skip it, create this one renamed, or save it as a new version',
    }),
    dry_run: z.boolean().default(false).openapi({ description: 'Only report what would happen (with diffs); write nothing' }),
  })
  .refine((b) => (b.bundle === undefined) !== (b.yaml === undefined), { message: 'give exactly one of bundle and yaml' })
  .openapi('WorkflowImportRequest', oneOfRequired('bundle', 'yaml'));

export const ImportResultSchema = z
  .object({
    dry_run: z.boolean(),
    policy: z.enum(POLICIES),
    items: z.array(
      z.object({
        key: z.string(),
        name: z.string(),
        action: z.enum(['created', 'renamed', 'new_version', 'skipped', 'unchanged']),
        final_name: z.string(),
        workflow_id: z.number().int().nullable().openapi({ description: 'null only in a dry run, for a workflow it would create' }),
        version: z.number().int().nullable(),
        diff: DefinitionDiffSchema.nullable().openapi({ description: "From the existing workflow's current version to the bundle's" }),
      }),
    ),
    counts: z.record(z.string(), z.number().int()),
  })
  .openapi('WorkflowImportResult');
