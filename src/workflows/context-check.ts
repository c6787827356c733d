import type { z } from '@hono/zod-openapi';
import { estimateTokens, modelInfo, PROVIDERS, type ProviderName } from '../ai';
import { outputCap, type WorkflowNode, type WorkflowSettings } from '../engine';

/*
 * A model call's output cap and its prompt share the model's context window. A definition whose
 * AI node names a model (on the node or in the settings) with an output cap that leaves no room
 * for the node's own prompt text in that model's window could never run, so it is refused when it
 * is saved, naming the node, the model and the window. Nodes whose model is chosen at run time
 * (the deployment's default provider) are checked then: their prompt is compacted to fit.
 */

type AiNode = Extract<WorkflowNode['type'], 'generate' | 'summarize' | 'title'>;
type Checked = { type: AiNode; provider?: string | undefined; model?: string | undefined } & Record<string, unknown>;

function capOf(n: Checked): { field: string; cap: number; prompt: string } {
  const cap = outputCap(n as Parameters<typeof outputCap>[0]);
  if (n.type === 'generate') return { field: 'max_tokens', cap, prompt: String(n.prompt ?? '') };
  return { field: n.type === 'summarize' ? 'max_words' : 'style', cap, prompt: '' };
}

function problem(n: Checked, settings: Partial<WorkflowSettings> | undefined): { field: string; message: string } | null {
  const provider = n.provider ?? settings?.provider;
  const model = n.model ?? settings?.default_model;
  if (!provider || !model || !(PROVIDERS as readonly string[]).includes(provider)) return null;
  const info = modelInfo(provider as ProviderName, model);
  if (!info.known) return null;
  const { field, cap, prompt } = capOf(n);
  const promptTokens = estimateTokens(prompt);
  if (cap + promptTokens <= info.contextWindow) return null;
  return {
    field,
    message: `an output cap of ${cap} tokens and a prompt of at least ${promptTokens} leave no room in ${provider}/${model}'s context window of ${info.contextWindow} tokens`,
  };
}

/** Adds an issue for each AI node (a map's per-item node included) whose output cap leaves no room for its prompt. */
export function checkContextWindows(
  nodes: WorkflowNode[] | undefined,
  settings: Partial<WorkflowSettings> | undefined,
  ctx: z.RefinementCtx,
): void {
  for (const [i, n] of (nodes ?? []).entries()) {
    const inner = n.type === 'map' ? (n.node as Checked) : (n as unknown as Checked);
    if (!['generate', 'summarize', 'title'].includes(inner.type)) continue;
    const p = problem(inner, settings);
    if (p) ctx.addIssue({ code: 'custom', path: ['nodes', i, ...(n.type === 'map' ? ['node'] : []), p.field], message: p.message });
  }
}
