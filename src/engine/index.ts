/**
 * The run engine's public module: what the rest of the system may use. The engine is a core: it
 * imports only itself and the platform (src/lib, src/db), and reaches everything else through the
 * ports its host passes in (ports.ts). Its host is the WorkflowRun object; src/runs builds the
 * ports; src/workflows validates definitions with its definition schema.
 */
export {
  ANALYSES,
  MAX_NODES,
  NODE_TYPES,
  NodeSchema,
  NOTIFY_CHANNELS,
  RetryPolicy,
  SettingsSchema,
  type WorkflowNode,
  type WorkflowSettings,
} from './definition';
export { JsonSchemaSubset, validateJson } from './json-schema';
export { templateRefs } from './template';
export { graphIssues, inputKeys, NodesSchema, prepareInput } from './validation';
export { RunEngine } from './engine';
export { planReuse } from './fork';
export { outputCap, titleOf } from './executors';
export type { ChildRuns, Effect, EffectOutcome, EnginePorts, ExecDeps, ModelAnswer, ModelCall } from './ports';
export { runOutput } from './projection';
export {
  type ChildOutcome,
  type MapProgress,
  DONE_NODE,
  NodeError,
  type NodeOutput,
  type NodeRecord,
  type NodeStatus,
  itemKey,
  parseItemKey,
  type RunEvent,
  type RunInit,
  type RunMeta,
  type Budget,
  type ReusedNode,
  type RunSignal,
  type SignalResult,
  type RunView,
  REVIEW_DECISIONS,
  type ReviewDecision,
  type ReviewEntry,
  TERMINAL_RUN,
} from './types';
