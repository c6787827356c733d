import type { EnginePorts, ExecDeps, ModelCall } from './ports';
import type { RunState } from './state';
import type { RunMeta, Spent } from './types';

/*
 * What a run may spend, and what it spent. Every model call of a run passes through here: before
 * it is made, the most it could cost — its prompt and its max output tokens, at the price of the
 * priciest provider it may go to — is checked against what remains of the run's budget
 * (max_cost_usd, max_tokens) and of its owner's monthly budget, and reserved while the call is in
 * flight, so calls running side by side cannot overspend together. A call that does not fit is
 * not made: the run pauses with reason `budget_exceeded` (budget.ts's BudgetExceeded), and goes on
 * when its owner resumes it with a larger budget. After the call, its actual tokens and cost are
 * added to the run's spending, stored with the run's state.
 */

/** The limit a call would pass, what was spent against it, and what the call could take. */
export type Overrun = {
  limit: 'max_cost_usd' | 'max_tokens' | 'monthly_usd';
  allowed: number;
  spent: number;
  needed: number;
  message: string;
};

/** A call was not made because it could pass a budget; the run pauses instead of failing. */
export class BudgetExceeded extends Error {
  override name = 'BudgetExceeded';
  constructor(readonly overrun: Overrun) {
    super(overrun.message);
  }
}

/** Other runs' spending this month is read again after this long (this run's own is always current). */
const MONTHLY_TTL_MS = 5_000;

export const noSpending = (): Spent => ({ tokensIn: 0, tokensOut: 0, costUsd: 0 });

const usd = (n: number) => `$${n.toFixed(n < 0.01 ? 6 : 4)}`;

/** The budgets of one incarnation of a run object: its reservations live as long as the calls they cover. */
export class RunBudget {
  private reservedTokens = 0;
  private reservedUsd = 0;
  /** The owner's monthly standing, read from D1 at most every MONTHLY_TTL_MS. */
  private monthlyRead: { at: number; value: Promise<{ limitUsd: number; spentUsd: number } | null> } | null = null;

  constructor(
    private readonly state: RunState,
    private readonly ports: EnginePorts,
  ) {}

  /**
   * The attempt's execution with every model call checked, reserved and counted. `used` adds up
   * the attempt's own calls (an attempt may make more than one).
   */
  meter(meta: RunMeta, deps: ExecDeps): { deps: ExecDeps; used: Spent & { unpriced: boolean } } {
    const used = { ...noSpending(), unpriced: false };
    const generate: ExecDeps['generate'] = async (call, options) => {
      const hold = await this.admit(meta, call);
      try {
        const answer = await deps.generate(call, options);
        used.tokensIn += answer.tokensIn;
        used.tokensOut += answer.tokensOut;
        used.costUsd += answer.costUsd ?? 0;
        if (answer.costUsd === null) used.unpriced = true;
        this.spend(meta, { tokensIn: answer.tokensIn, tokensOut: answer.tokensOut, costUsd: answer.costUsd ?? 0 });
        return answer;
      } finally {
        this.reservedTokens -= hold.tokens;
        this.reservedUsd -= hold.usd;
      }
    };
    return { deps: { ...deps, generate }, used };
  }

  private monthly(meta: RunMeta) {
    if (!this.monthlyRead || Date.now() - this.monthlyRead.at > MONTHLY_TTL_MS) {
      const value = this.ports.costs.monthly(meta.ownerId, meta.runId);
      this.monthlyRead = { at: Date.now(), value };
      value.catch(() => (this.monthlyRead = null));
    }
    return this.monthlyRead.value;
  }

  private spend(meta: RunMeta, s: Spent): void {
    const spent = meta.spent ?? noSpending();
    meta.spent = { tokensIn: spent.tokensIn + s.tokensIn, tokensOut: spent.tokensOut + s.tokensOut, costUsd: spent.costUsd + s.costUsd };
    this.state.store.saveMeta(meta);
  }

  /** Checks the call against every budget and reserves what it could take; throws BudgetExceeded when it does not fit. */
  private async admit(meta: RunMeta, call: ModelCall): Promise<{ tokens: number; usd: number }> {
    const budget = meta.budget ?? {};
    const spent = meta.spent ?? noSpending();
    const monthly = await this.monthly(meta);
    if (budget.maxTokens === undefined && budget.maxCostUsd === undefined && !monthly) return { tokens: 0, usd: 0 };
    const quote = await this.ports.costs.quote(call, meta.settings.fallback_providers);
    const tokensSpent = spent.tokensIn + spent.tokensOut + this.reservedTokens;
    if (budget.maxTokens !== undefined && tokensSpent + quote.tokens > budget.maxTokens) {
      throw new BudgetExceeded({
        limit: 'max_tokens',
        allowed: budget.maxTokens,
        spent: tokensSpent,
        needed: quote.tokens,
        message: `the next call could use ${quote.tokens} tokens and the run has ${Math.max(0, budget.maxTokens - tokensSpent)} of its max_tokens (${budget.maxTokens}) left`,
      });
    }
    const costLimited = budget.maxCostUsd !== undefined || monthly !== null;
    if (costLimited && quote.costUsd === null) {
      throw new BudgetExceeded({
        limit: budget.maxCostUsd !== undefined ? 'max_cost_usd' : 'monthly_usd',
        allowed: budget.maxCostUsd ?? monthly!.limitUsd,
        spent: spent.costUsd,
        needed: Number.NaN,
        message: `the price of ${quote.unpriced} is unknown, so a call to it cannot be kept within a cost budget; an administrator can set it (PUT /api/v3/costs/prices/...)`,
      });
    }
    const usdSpent = spent.costUsd + this.reservedUsd;
    const cost = quote.costUsd ?? 0;
    if (budget.maxCostUsd !== undefined && usdSpent + cost > budget.maxCostUsd) {
      throw new BudgetExceeded({
        limit: 'max_cost_usd',
        allowed: budget.maxCostUsd,
        spent: usdSpent,
        needed: cost,
        message: `the next call could cost ${usd(cost)} and the run has ${usd(Math.max(0, budget.maxCostUsd - usdSpent))} of its max_cost_usd (${usd(budget.maxCostUsd)}) left`,
      });
    }
    if (monthly && monthly.spentUsd + usdSpent + cost > monthly.limitUsd) {
      const left = Math.max(0, monthly.limitUsd - monthly.spentUsd - usdSpent);
      throw new BudgetExceeded({
        limit: 'monthly_usd',
        allowed: monthly.limitUsd,
        spent: monthly.spentUsd + usdSpent,
        needed: cost,
        message: `the next call could cost ${usd(cost)} and ${usd(left)} of your monthly budget (${usd(monthly.limitUsd)}) is left`,
      });
    }
    this.reservedTokens += quote.tokens;
    this.reservedUsd += cost;
    return { tokens: quote.tokens, usd: cost };
  }
}
