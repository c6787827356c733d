/**
 * The whole D1 schema: one schema folder, one file per feature of src/ that owns the tables (the
 * one that writes them; others may read them), and one migration stream, because D1 is one
 * database. drizzle-kit reads every file of this folder and writes SQL into `migrations/`
 * (`npm run db:generate`); `wrangler d1 migrations apply` and the tests apply that same folder.
 * Applied migrations are never edited — a change is a new migration. A new file here must also be
 * re-exported below, or the app's drizzle instance (src/db/client.ts) will not know its tables.
 *
 * Conventions: integer primary keys (keyset pagination walks them newest-first), timestamps as
 * integer milliseconds since the epoch, JSON columns as text validated by zod on the way in.
 * Tables of other files are referenced by importing them from their owner's file; every file
 * may reference auth's `users`, and auth references nothing, so the files form no cycle.
 */
export * from './ai';
export * from './ai-workflows';
export * from './analytics';
export * from './audit';
export * from './auth';
export * from './automations';
export * from './costs';
export * from './documents';
export * from './events';
export * from './exports';
export * from './knowledge';
export * from './ml';
export * from './notifications';
export * from './observability';
export * from './recommendations';
export * from './runs';
export * from './scheduler';
export * from './security';
export * from './tasks';
export * from './workflows';
