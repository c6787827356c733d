import { sql, type SQL } from 'drizzle-orm';
import type { DB } from './client';

/**
 * Nearest-rank percentiles of `value` over `from … where`, computed by D1 (window functions),
 * so every figure is counted from stored rows. Null when there are no samples.
 */
export async function percentiles<P extends number>(
  db: DB,
  value: SQL,
  from: SQL,
  ps: P[],
): Promise<{ samples: number; mean: number | null } & Record<`p${P}`, number | null>> {
  const cols = ps.map((p) => sql`(SELECT v FROM ranked WHERE rn * 100 >= n * ${p} ORDER BY rn LIMIT 1) AS ${sql.identifier(`p${p}`)}`);
  const row = await db.get<Record<string, number | null>>(sql`WITH vals AS (SELECT ${value} AS v ${from}),
    ranked AS (SELECT v, row_number() OVER (ORDER BY v) AS rn, count(*) OVER () AS n FROM vals)
    SELECT (SELECT count(*) FROM vals) AS samples, (SELECT round(avg(v)) FROM vals) AS mean, ${sql.join(cols, sql`, `)}`);
  return {
    samples: row?.samples ?? 0,
    mean: row?.mean ?? null,
    ...Object.fromEntries(ps.map((p) => [`p${p}`, row?.[`p${p}`] ?? null])),
  } as { samples: number; mean: number | null } & Record<`p${P}`, number | null>;
}
