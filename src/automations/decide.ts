import { z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { automationExecutions } from '../db/schema';
import type { Action } from './schemas';
import type { AutomationRow, ExecutionRow } from './queries';
import { seededRandom } from '../lib/random';
import { generateWithChain, providerChain, type AiEnv } from '../ai';

/*
 * Which actions run, in which order. Declared order by default. With `learning_enabled`, a
 * Beta-Bernoulli Thompson sampler ranks actions by their recorded success (counted from this
 * automation's stored action results), seeded by the execution id so a replay chooses the same.
 * With `ai_decision_making`, an AI step picks the actions and order; its answer must pass the zod
 * schema and respect dependencies, or the base order stands. An action that reads
 * `{{actions.N...}}` always runs after action N.
 */

export type Decision = { source: 'declared' | 'learned' | 'ai' | 'fallback'; order: number[]; reason: string | null };

/**
 * Indices of the actions an action reads: those named by `{{actions.N...}}`, and for a
 * notification (which passes the previous output on) every action declared before it.
 */
export function dependencies(action: Action, index: number): number[] {
  const named = [...JSON.stringify(action.parameters).matchAll(/\{\{\s*actions\.(\d+)/g)].map((m) => Number(m[1]));
  return action.type === 'send_notification' ? [...named, ...Array.from({ length: index }, (_, i) => i)] : named;
}

function gamma(k: number, rand: () => number): number {
  // Marsaglia–Tsang for k >= 1 (our shapes are 1 + counts, never below 1).
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      const u1 = rand() || 1e-12;
      const u2 = rand();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand() || 1e-12;
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export const betaSample = (s: number, f: number, rand: () => number) => {
  const x = gamma(1 + s, rand);
  return x / (x + gamma(1 + f, rand));
};

/** Orders by score (highest first) while keeping every action after the actions it reads. */
export function orderByScore(actions: Action[], score: number[]): number[] {
  const placed: number[] = [];
  const left = new Set(actions.map((_, i) => i));
  while (left.size) {
    const ready = [...left].filter((i) => dependencies(actions[i]!, i).every((d) => placed.includes(d) || d >= actions.length));
    const pick = (ready.length ? ready : [...left]).sort((a, b) => score[b]! - score[a]! || a - b)[0]!;
    placed.push(pick);
    left.delete(pick);
  }
  return placed;
}

/** Per action index: successes and failures recorded for this automation. */
export async function actionOutcomes(db: DB, automationId: number, n: number) {
  const rows = await db.all<{
    i: number;
    s: number;
    f: number;
  }>(sql`SELECT r.action_index AS i, sum(r.status = 'succeeded') AS s, sum(r.status = 'failed') AS f
    FROM automation_action_results r JOIN automation_executions e ON e.id = r.execution_id WHERE e.automation_id = ${automationId} GROUP BY r.action_index`);
  const out = Array.from({ length: n }, () => ({ s: 0, f: 0 }));
  for (const r of rows) if (r.i < n) out[r.i] = { s: r.s, f: r.f };
  return out;
}

const AiChoice = z.object({ order: z.array(z.number().int().min(0)).min(1).max(10) });

function validChoice(actions: Action[], order: number[]): string | null {
  if (new Set(order).size !== order.length) return 'an action is listed twice';
  if (order.some((i) => i >= actions.length)) return 'names an action that does not exist';
  for (const [pos, i] of order.entries())
    if (dependencies(actions[i]!, i).some((d) => !order.slice(0, pos).includes(d))) return `action ${i} runs before an action it reads`;
  return null;
}

async function aiChoice(
  env: AiEnv,
  automation: AutomationRow,
  actions: Action[],
  base: number[],
  rates: { s: number; f: number }[],
  trigger: unknown,
): Promise<Decision> {
  const gen = actions.find((a): a is Extract<Action, { type: 'ai_generation' }> => a.type === 'ai_generation')?.parameters;
  const listing = actions
    .map((a, i) => `${i}: ${a.type}${automation.learningEnabled ? ` (succeeded ${rates[i]!.s}, failed ${rates[i]!.f})` : ''}`)
    .join('\n');
  // Only the provider the automation names (no fallback chain): its answer is the decision asked for.
  const prompt = `Choose which actions of the automation "${automation.name}" to run for this trigger, in order. Answer only JSON {"order": [indices]}.\nActions:\n${listing}\nTrigger data: ${JSON.stringify(trigger).slice(0, 2000)}`;
  let text: string;
  try {
    text = (
      await generateWithChain(env, providerChain(env, gen?.provider, gen?.provider ? [] : undefined), {
        messages: [{ role: 'user', content: prompt }],
        model: gen?.model,
        temperature: 0,
        maxTokens: 200,
      })
    ).text;
  } catch (err) {
    return {
      source: 'fallback',
      order: base,
      reason: `the AI step failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
  } catch {
    return { source: 'fallback', order: base, reason: 'the AI answer was not JSON' };
  }
  const parsed = AiChoice.safeParse(json);
  if (!parsed.success) return { source: 'fallback', order: base, reason: 'the AI answer did not match {"order": [indices]}' };
  const problem = validChoice(actions, parsed.data.order);
  if (problem) return { source: 'fallback', order: base, reason: `the AI answer was refused: ${problem}` };
  return { source: 'ai', order: parsed.data.order, reason: null };
}

/** Decides once per execution; a redelivered task reuses the stored decision. */
export async function actionOrder(
  env: Env,
  db: DB,
  automation: AutomationRow,
  actions: Action[],
  execution: ExecutionRow,
): Promise<number[]> {
  if (execution.decision) return execution.decision.order;
  let decision: Decision = { source: 'declared', order: actions.map((_, i) => i), reason: null };
  const rates = automation.learningEnabled || automation.aiDecisionMaking ? await actionOutcomes(db, automation.id, actions.length) : [];
  if (automation.learningEnabled) {
    const rand = seededRandom(execution.id);
    decision = {
      source: 'learned',
      order: orderByScore(
        actions,
        rates.map((r) => betaSample(r.s, r.f, rand)),
      ),
      reason: null,
    };
  }
  if (automation.aiDecisionMaking) decision = await aiChoice(env, automation, actions, decision.order, rates, execution.triggerData);
  await db.update(automationExecutions).set({ decision }).where(eq(automationExecutions.id, execution.id));
  return decision.order;
}
