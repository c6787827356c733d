import type { RequestMeta } from '../lib/audit';
import { objectStub } from '../lib/stubs';
import type { Anchor, ChainLink, VerifyResult } from './chain';
import type { RetentionResult } from './retention';

export type SealResult = { sealed: number; head: ChainLink; foreign_hash_at: number | null };
export type RetainOutcome = { ok: true; result: RetentionResult } | { ok: false; first_invalid: { id: number; reason: string } };

/** The audit chain's sealer (durable-objects/audit-chain.ts): the one writer of audit hashes. */
export interface AuditChainRpc {
  /** Hashes entries not yet sealed, oldest first, at most `maxRows` of them. */
  seal(maxRows?: number): Promise<SealResult>;
  verify(): Promise<VerifyResult>;
  /** Removes entries older than `cutoffMs` behind a checkpoint that keeps the rest verifiable. */
  retain(cutoffMs: number, meta: RequestMeta, opts: { reason: string; auditNoop: boolean }): Promise<RetainOutcome>;
  /** The head and checkpoint kept outside D1. */
  anchor(): Anchor | null;
}

/** The service's audit chain object; `name` is only for tests that need a private chain. */
export const auditChain = (env: Env, name = 'audit') => objectStub<AuditChainRpc>(env.AUDIT_CHAIN, name);
