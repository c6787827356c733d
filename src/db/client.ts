import type { SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { drizzle } from 'drizzle-orm/d1';
import { perObject } from '../lib/memo';
import * as schema from './schema';

export type DB = ReturnType<typeof createDb>;

function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/*
 * drizzle() walks the whole schema to build its relational config each time it is called, which
 * profiling showed as a large share of a simple request's CPU. The instance holds no request
 * state, so one per D1 binding (per isolate) is reused, and goes with the binding.
 */
export const getDb = perObject(createDb);

/**
 * A statement built once per database instance (so once per isolate) instead of per call: for
 * queries on every request's path, drizzle's SQL building showed up in profiles. Use it with
 * `sql.placeholder(...)` for the parameters and call `.get/.all({...})` on the result.
 */
export const preparedOnce = <T>(build: (db: DB) => T): ((db: DB) => T) => perObject(build);

/*
 * drizzle-orm 0.45 builds D1 batch statements from each item's prepared `stmt`, which its raw
 * queries (`db.run(sql)`, `db.all(sql)`) lack when they have parameters, so they fail inside
 * `db.batch`. These wrappers give a raw query its prepared statement, keeping it batchable.
 */
function batchable<T extends { getQuery(): { sql: string } }>(db: DB, item: T): T {
  return Object.assign(item, { stmt: db.$client.prepare(item.getQuery().sql) });
}

/** Raw SQL for statements drizzle's builder cannot express (INSERT … SELECT … WHERE changes()). */
export const rawRun = (db: DB, query: SQL) => batchable(db, db.run(query));
export const rawAll = <T>(db: DB, query: SQL) => batchable(db, db.all<T>(query));

/** A statement for `db.batch`: built, not yet run. */
export type Stmt = BatchItem<'sqlite'>;

/** Runs statements as one D1 batch (one transaction); drizzle's types want a non-empty tuple. */
export const runBatch = (db: DB, items: Stmt[]) => db.batch(items as [Stmt, ...Stmt[]]);
