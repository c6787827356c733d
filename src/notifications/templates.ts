import { and, desc, eq, lt } from 'drizzle-orm';
import type { DB } from '../db/client';
import { notificationTemplates, type NotificationChannel } from '../db/schema';
import { ApiError } from '../lib/errors';
import { toIso } from '../lib/time';

/*
 * Templates are plain text with `{{name}}` placeholders (spaces inside the braces allowed). No
 * logic, no partials, no HTML escaping: every channel receives text and formats it itself (Slack
 * escapes its mrkdwn control characters, push and webhooks send JSON). Everything a template
 * uses must be declared, so a typo is a 400 when the template is saved, not a blank at send time.
 */
export type TemplateVariable = { name: string; required: boolean; default?: string };
type Row = typeof notificationTemplates.$inferSelect;

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type Issue = { path: (string | number)[]; message: string };

/** The variable names a text uses, or the problems with its placeholders. */
export function placeholders(text: string, field: string): { names: string[]; issues: Issue[] } {
  const names: string[] = [];
  const issues: Issue[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const name = m[1]!;
    if (!NAME.test(name))
      issues.push({ path: [field], message: `{{${name}}} is not a variable name (letters, digits and _, not starting with a digit)` });
    else names.push(name);
  }
  // Braces left after removing every well-formed placeholder are unbalanced ones.
  if (/\{\{|\}\}/.test(text.replace(TOKEN, ''))) issues.push({ path: [field], message: 'unbalanced {{ or }}' });
  return { names, issues };
}

/** Every problem with a template: undeclared or malformed placeholders, duplicate declarations. */
export function templateIssues(subject: string, body: string, variables: TemplateVariable[]): Issue[] {
  const issues: Issue[] = [];
  const declared = new Set<string>();
  variables.forEach((v, i) => {
    if (declared.has(v.name)) issues.push({ path: ['variables', i, 'name'], message: `${v.name} is declared twice` });
    declared.add(v.name);
    if (v.required && v.default !== undefined)
      issues.push({ path: ['variables', i], message: `${v.name} has a default, so it cannot be required` });
  });
  for (const [field, text] of [
    ['subject', subject],
    ['body', body],
  ] as const) {
    const p = placeholders(text, field);
    issues.push(...p.issues);
    for (const n of new Set(p.names))
      if (!declared.has(n)) issues.push({ path: [field], message: `{{${n}}} is not declared in variables` });
  }
  return issues;
}

/** Fills a template; unknown or missing required values are problems, reported all at once. */
export function renderTemplate(
  t: { subject: string; body: string; variables: TemplateVariable[] },
  values: Record<string, string>,
  prefix: (string | number)[] = ['variables'],
): { subject: string; body: string } | { issues: Issue[] } {
  const issues: Issue[] = [];
  const byName = new Map(t.variables.map((v) => [v.name, v]));
  for (const k of Object.keys(values))
    if (!byName.has(k)) issues.push({ path: [...prefix, k], message: `the template has no variable ${k}` });
  for (const v of t.variables)
    if (v.required && values[v.name] === undefined) issues.push({ path: [...prefix, v.name], message: `${v.name} is required` });
  if (issues.length) return { issues };
  const fill = (text: string) => text.replace(TOKEN, (_, name: string) => values[name] ?? byName.get(name)?.default ?? '');
  return { subject: fill(t.subject), body: fill(t.body) };
}

export const invalid = (issues: Issue[]) =>
  new ApiError('validation_error', 'Request validation failed', {
    details: issues.map((i) => ({ path: i.path, code: 'custom', message: i.message })),
  });

export const templateView = (t: Row) => ({
  id: t.id,
  name: t.name,
  channel: t.channel,
  subject: t.subject,
  body: t.body,
  variables: t.variables,
  created_at: toIso(t.createdAt),
  updated_at: toIso(t.updatedAt),
});

export type TemplateInput = { name: string; channel: NotificationChannel; subject: string; body: string; variables: TemplateVariable[] };

const nameTaken = (name: string) => new ApiError('conflict', `You already have a template named "${name}"`);

/** A template's problems, including its channel's: an email template needs a subject. */
function savedTemplateIssues(t: TemplateInput): Issue[] {
  const issues = templateIssues(t.subject, t.body, t.variables);
  if (t.channel === 'email' && !t.subject.trim()) issues.push({ path: ['subject'], message: 'an email template needs a subject' });
  return issues;
}

export async function createTemplate(db: DB, ownerId: number, t: TemplateInput): Promise<Row> {
  const issues = savedTemplateIssues(t);
  if (issues.length) throw invalid(issues);
  const row = await db
    .insert(notificationTemplates)
    .values({ ownerId, ...t })
    .onConflictDoNothing()
    .returning()
    .get();
  if (!row) throw nameTaken(t.name);
  return row;
}

export async function replaceTemplate(db: DB, ownerId: number, id: number, t: TemplateInput): Promise<Row> {
  const issues = savedTemplateIssues(t);
  if (issues.length) throw invalid(issues);
  const clash = await db
    .select({ id: notificationTemplates.id })
    .from(notificationTemplates)
    .where(and(eq(notificationTemplates.ownerId, ownerId), eq(notificationTemplates.name, t.name)))
    .get();
  if (clash && clash.id !== id) throw nameTaken(t.name);
  const row = await db
    .update(notificationTemplates)
    .set({ ...t, updatedAt: Date.now() })
    .where(and(eq(notificationTemplates.id, id), eq(notificationTemplates.ownerId, ownerId)))
    .returning()
    .get();
  if (!row) throw new ApiError('not_found', 'Template not found');
  return row;
}

export async function getTemplate(db: DB, ownerId: number, id: number): Promise<Row> {
  const row = await db
    .select()
    .from(notificationTemplates)
    .where(and(eq(notificationTemplates.id, id), eq(notificationTemplates.ownerId, ownerId)))
    .get();
  if (!row) throw new ApiError('not_found', 'Template not found');
  return row;
}

export const listTemplates = (db: DB, ownerId: number, limit: number, before?: number) =>
  db
    .select()
    .from(notificationTemplates)
    .where(and(eq(notificationTemplates.ownerId, ownerId), before ? lt(notificationTemplates.id, before) : undefined))
    .orderBy(desc(notificationTemplates.id))
    .limit(limit + 1)
    .all();

export async function deleteTemplate(db: DB, ownerId: number, id: number): Promise<void> {
  const res = await db
    .delete(notificationTemplates)
    .where(and(eq(notificationTemplates.id, id), eq(notificationTemplates.ownerId, ownerId)))
    .run();
  if (!(res.meta.changes ?? 0)) throw new ApiError('not_found', 'Template not found');
}
