import { and, asc, eq } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { notificationChannels, type NotificationChannel } from '../db/schema';
import { ApiError } from '../lib/errors';
import { toIso } from '../lib/time';
import { openFor, sealFor } from '../lib/encryption';
import { CHANNELS, ChannelError, type ResolvedConfig } from './channels';
import { newSigningSecret } from './channels/webhook';
import { invalid, type Issue } from './templates';

/*
 * Channel configurations. A user's own (`user:<id>`) come first; the service-wide ones an admin
 * saves (`global`) are used when the sender has none of that channel and name; for email, the
 * deployment's send_email binding is the last resort. Secrets are one sealed JSON object per row,
 * bound to (scope, channel, name), and only ever shown as a hint.
 */
type Row = typeof notificationChannels.$inferSelect;
export type Scope = { kind: 'user'; userId: number } | { kind: 'global' };

const scopeKey = (s: Scope) => (s.kind === 'global' ? 'global' : `user:${s.userId}`);
const aad = (key: string, channel: string, name: string) => `${key}/${channel}/${name}`;

/** How long the previous webhook signing secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

async function openSecrets(env: Env, row: Row): Promise<Record<string, string>> {
  if (!row.secrets) return {};
  const parsed: unknown = JSON.parse(
    await openFor(env, 'notification_channels', aad(row.scopeKey, row.channel, row.name), 'secrets', row.secrets),
  );
  const out: Record<string, string> = {};
  if (parsed && typeof parsed === 'object') for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Enough of a secret to recognise it, never enough to use it: the URL's origin and last 4 characters. */
export function hint(value: string): string {
  const tail = value.length > 16 ? value.slice(-4) : '';
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return `${url.origin}/••••${tail}`;
  } catch {
    // Not a URL: an API key, token or signing secret.
  }
  return `••••${tail}`;
}

export async function configView(env: Env, row: Row) {
  const secrets = await openSecrets(env, row);
  return {
    id: row.id,
    scope: row.scopeKey === 'global' ? ('global' as const) : ('user' as const),
    channel: row.channel,
    name: row.name,
    enabled: row.enabled,
    settings: row.settings,
    secrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, hint(v)])),
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
  };
}

const issuesOf = (prefix: string, err: { issues: { path: PropertyKey[]; message: string }[] }): Issue[] =>
  err.issues.map((i) => ({ path: [prefix, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))], message: i.message }));

export type ConfigInput = { settings: Record<string, unknown>; secrets: Record<string, string>; enabled: boolean };

/**
 * Creates or replaces one configuration. Settings are replaced; secret fields left out keep
 * their stored value, so settings can change without re-entering a key. Everything is checked
 * (shape, provider hosts, the SSRF guard) before anything is written.
 */
export async function saveConfig(
  env: Env,
  db: DB,
  meta: RequestMeta,
  scope: Scope,
  channel: NotificationChannel,
  name: string,
  input: ConfigInput,
) {
  const impl = CHANNELS[channel];
  const key = scopeKey(scope);
  const existing = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.scopeKey, key), eq(notificationChannels.channel, channel), eq(notificationChannels.name, name)))
    .get();
  const merged = { ...(existing ? await openSecrets(env, existing) : {}), ...input.secrets };
  const settings = impl.settings.safeParse(input.settings);
  const secrets = impl.secrets.safeParse(merged);
  const issues = [
    ...(settings.success ? [] : issuesOf('settings', settings.error)),
    ...(secrets.success ? [] : issuesOf('secrets', secrets.error)),
  ];
  if (issues.length || !settings.success || !secrets.success) throw invalid(issues);
  let prepared: { settings: Record<string, unknown>; secrets: Record<string, string>; reveal?: Record<string, string> } = {
    settings: settings.data,
    secrets: secrets.data,
  };
  try {
    if (impl.prepare) prepared = await impl.prepare(settings.data, secrets.data);
  } catch (err) {
    if (err instanceof ChannelError) throw invalid([{ path: ['settings'], message: err.message }]);
    throw err;
  }
  const problem = impl.checkConfig(env, prepared.settings, prepared.secrets);
  if (problem) throw invalid([{ path: ['settings'], message: problem }]);
  const sealed = Object.keys(prepared.secrets).length
    ? await sealFor(env, 'notification_channels', aad(key, channel, name), 'secrets', JSON.stringify(prepared.secrets))
    : null;
  const now = Date.now();
  const values = { settings: prepared.settings, secrets: sealed, enabled: input.enabled, updatedAt: now };
  const [rows] = await db.batch([
    db
      .insert(notificationChannels)
      .values({ scopeKey: key, ownerId: scope.kind === 'user' ? scope.userId : null, channel, name, ...values, createdAt: now })
      .onConflictDoUpdate({ target: [notificationChannels.scopeKey, notificationChannels.channel, notificationChannels.name], set: values })
      .returning(),
    auditInsert(db, meta, {
      action: 'notification_channel.save',
      targetType: 'notification_channel',
      targetId: `${key}/${channel}/${name}`,
      details: { scope: scope.kind, channel, name, secret_fields: Object.keys(prepared.secrets) },
    }),
  ]);
  return { view: await configView(env, rows[0]!), reveal: prepared.reveal ?? null };
}

export async function listConfigs(env: Env, db: DB, scope: Scope) {
  const rows = await db
    .select()
    .from(notificationChannels)
    .where(eq(notificationChannels.scopeKey, scopeKey(scope)))
    .orderBy(asc(notificationChannels.channel), asc(notificationChannels.name))
    .all();
  return Promise.all(rows.map((r) => configView(env, r)));
}

export async function deleteConfig(db: DB, meta: RequestMeta, scope: Scope, channel: NotificationChannel, name: string): Promise<void> {
  const key = scopeKey(scope);
  const [deleted] = await db.batch([
    db
      .delete(notificationChannels)
      .where(and(eq(notificationChannels.scopeKey, key), eq(notificationChannels.channel, channel), eq(notificationChannels.name, name)))
      .returning({ id: notificationChannels.id }),
    // Written only if the delete removed a row (changes() of the statement before it).
    auditIfChanged(db, meta, {
      action: 'notification_channel.delete',
      targetType: 'notification_channel',
      targetId: `${key}/${channel}/${name}`,
    }),
  ]);
  if (!deleted.length) throw new ApiError('not_found', 'Channel configuration not found');
}

/**
 * A new Standard Webhooks signing secret for a webhook configuration. The previous one keeps
 * signing (a second `v1,` signature) for 24 hours, so receivers can switch without a gap.
 */
export async function rotateWebhookSecret(env: Env, db: DB, meta: RequestMeta, scope: Scope, name: string) {
  const key = scopeKey(scope);
  const row = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.scopeKey, key), eq(notificationChannels.channel, 'webhook'), eq(notificationChannels.name, name)))
    .get();
  if (!row) throw new ApiError('not_found', 'Channel configuration not found');
  const old = await openSecrets(env, row);
  const signing_secret = newSigningSecret();
  const expiresAt = Date.now() + ROTATION_OVERLAP_MS;
  const secrets = { signing_secret, ...(old.signing_secret ? { previous_signing_secret: old.signing_secret } : {}) };
  const sealed = await sealFor(env, 'notification_channels', aad(key, 'webhook', name), 'secrets', JSON.stringify(secrets));
  const [rows] = await db.batch([
    db
      .update(notificationChannels)
      .set({ secrets: sealed, settings: { ...row.settings, previous_secret_expires_at: expiresAt }, updatedAt: Date.now() })
      .where(eq(notificationChannels.id, row.id))
      .returning(),
    auditInsert(db, meta, {
      action: 'notification_channel.rotate_secret',
      targetType: 'notification_channel',
      targetId: `${key}/webhook/${name}`,
    }),
  ]);
  return { view: await configView(env, rows[0]!), signing_secret, previous_valid_until: toIso(expiresAt) };
}

/** The configuration a send of `owner` uses: their own, else the global one, else the deployment's. */
export async function resolveConfig(
  env: Env,
  db: DB,
  ownerId: number,
  channel: NotificationChannel,
  name: string,
): Promise<ResolvedConfig | null> {
  for (const key of [`user:${ownerId}`, 'global']) {
    const row = await db
      .select()
      .from(notificationChannels)
      .where(and(eq(notificationChannels.scopeKey, key), eq(notificationChannels.channel, channel), eq(notificationChannels.name, name)))
      .get();
    if (row) return row.enabled ? { name, settings: row.settings, secrets: await openSecrets(env, row) } : null;
  }
  return name === 'default' ? (CHANNELS[channel].fallbackConfig?.(env) ?? null) : null;
}

/** The global push configuration's public key: the one browsers subscribe with. */
export async function globalVapidKey(db: DB): Promise<string | null> {
  const row = await db
    .select()
    .from(notificationChannels)
    .where(
      and(eq(notificationChannels.scopeKey, 'global'), eq(notificationChannels.channel, 'push'), eq(notificationChannels.name, 'default')),
    )
    .get();
  const key = row?.settings.vapid_public_key;
  return typeof key === 'string' ? key : null;
}
