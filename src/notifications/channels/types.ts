import type { z } from '@hono/zod-openapi';
import type { DB } from '../../db/client';
import type { NOTIFICATION_PRIORITIES, NotificationChannel } from '../../db/schema';

export type Priority = (typeof NOTIFICATION_PRIORITIES)[number];

/** A delivery's content after templating, as every channel receives it. */
export type Message = {
  /** Stable per delivery and identical on every attempt: providers that dedupe get it as their key. */
  deliveryId: number;
  /** Overrides the provider idempotency key derived from deliveryId (system mail has no delivery row). */
  idempotencyKey?: string;
  subject: string;
  body: string;
  priority: Priority;
  data: Record<string, unknown>;
};

/** The configuration a send uses: shown settings plus the secrets, opened for this send only. */
export type ResolvedConfig = { name: string; settings: Record<string, unknown>; secrets: Record<string, string> };

export type SendTarget = {
  recipient: string;
  recipientUserId: number | null;
  subscriptionId: number | null;
};

export type SendContext = { env: Env; db: DB; config: ResolvedConfig | null; target: SendTarget; now: number };

/** Content a provider would refuse: which field and why. */
export type ContentProblem = { field: 'subject' | 'message'; message: string };

/** What the provider answered to a successful send. */
export type SendResult = { status: number | null; providerMessageId: string | null };

/**
 * A failed send with its verdict. Retryable: 5xx, 429, 408/425, network errors and timeouts —
 * a later attempt may succeed. Not retryable: every other 4xx and anything refused before a
 * request was made (bad configuration, a URL the SSRF guard refuses). `retryAfterMs` is the wait
 * the provider asked for (Retry-After, Discord's `retry_after`): no attempt is made sooner.
 */
export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status: number | null = null,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * One notification channel (STYLE.md rule 10: eight implementations of one interface).
 * `settings`/`secrets` validate what an owner saves; `recipient` checks an address before
 * anything is stored; `send` makes exactly the request the provider documents.
 */
export interface Channel {
  readonly name: NotificationChannel;
  /** Whether sending needs a saved configuration (in-app needs none). */
  readonly needsConfig: boolean;
  /** Webhook-style channels: the recipient names one of the owner's saved configurations. */
  readonly recipientIsConfig: boolean;
  /** Non-secret settings, shown back in full. */
  readonly settings: z.ZodType<Record<string, unknown>>;
  /** Secret fields, sealed at rest and shown only as a hint. */
  readonly secrets: z.ZodType<Record<string, string>>;
  /** Checks the combined configuration beyond its shape (URLs against the SSRF guard, hosts). */
  checkConfig(env: Env, settings: Record<string, unknown>, secrets: Record<string, string>): string | null;
  /**
   * Fills in what the service generates when the owner leaves it out (a VAPID key pair, a
   * webhook signing secret); `reveal` is shown once, in the answer to the save.
   */
  prepare?(
    settings: Record<string, unknown>,
    secrets: Record<string, string>,
  ): Promise<{ settings: Record<string, unknown>; secrets: Record<string, string>; reveal?: Record<string, string> }>;
  /** A recipient address for this channel, or the reason it is not one. */
  checkRecipient(recipient: string): string | null;
  /**
   * The provider's limits on the content itself, checked on the rendered subject and body when a
   * send is accepted (a 400) and again before each attempt (a delivery queued before a limit was
   * enforced fails for good, without a provider call). Null when the content fits.
   */
  checkMessage?(m: Pick<Message, 'subject' | 'body'>): ContentProblem | null;
  /** A configuration the deployment itself provides when the owner has saved none, if any. */
  fallbackConfig?(env: Env): ResolvedConfig | null;
  send(ctx: SendContext, m: Message): Promise<SendResult>;
}
