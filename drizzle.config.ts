import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL here; wrangler applies it (`wrangler d1 migrations apply`).
// A folder as `schema` makes drizzle-kit load each of its files (not subfolders) and keep each
// table once, so index.ts re-exporting them all counts nothing twice.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema',
  out: './migrations',
});
