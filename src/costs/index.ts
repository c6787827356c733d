/** Costs: what AI calls cost (prices), what users may spend (monthly budgets), and what a call could take (quotes). */
export { monthlyStanding, monthOf, type Standing } from './budgets';
export { callCost, costAt, priceOf, type PriceQuote } from './prices';
export { type CallShape, quoteCall, quoteTokens } from './quote';
