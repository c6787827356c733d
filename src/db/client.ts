import type { SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema';

export type DB = ReturnType<typeof getDb>;

export function getDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

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
