import type { NodeRecord, RunMeta } from './engine/types';

/** What the API hands a new run's object: the pinned definition and everything else it needs. */
export type RunInit = Pick<
  RunMeta,
  'runId' | 'workflowId' | 'workflowVersion' | 'workflowName' | 'ownerId' | 'nodes' | 'settings' | 'input' | 'parent' | 'depth'
>;

export type RunView = { meta: RunMeta; nodes: NodeRecord[]; lastSeq: number };

export type RunSignal = { type: 'approval'; node_id: string; approved: boolean; comment?: string | undefined; actor: number | null };
