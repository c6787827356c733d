/** The AI providers' names (src/ai): the closed vocabulary of every `provider` column and field. */

/**
 * Stored in run_nodes.provider, node_attempts.provider and ai_workflows.provider, and named in
 * workflow definitions; src/ai has one adapter per name.
 */
export const PROVIDERS = ['local', 'workers-ai', 'openai', 'anthropic', 'google'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
