import { DurableObject } from 'cloudflare:workers';

type Env = { JOBS: Queue<{ id: number }>; TALLY: DurableObjectNamespace<Tally> };

/**
 * The peer for background tasks: a queue whose consumer only acknowledges. Each batch reports
 * its message ids to a `Tally` object, which counts distinct and repeated ids, so "no task lost
 * or doubled" is checked on the peer exactly as on our side.
 */
export class Tally extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS seen (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, at INTEGER NOT NULL)');
  }

  record(ids: number[], at: number): void {
    for (const id of ids)
      this.ctx.storage.sql.exec('INSERT INTO seen (id, n, at) VALUES (?, 1, ?) ON CONFLICT(id) DO UPDATE SET n = n + 1', id, at);
  }

  read(): { ids: number; doubled: number; last: number } {
    return this.ctx.storage.sql
      .exec<{ ids: number; doubled: number; last: number }>(
        'SELECT count(*) AS ids, coalesce(sum(n > 1), 0) AS doubled, coalesce(max(at), 0) AS last FROM seen',
      )
      .one();
  }
}

const tally = (env: Env) => env.TALLY.get(env.TALLY.idFromName('tally'));

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/submit' && request.method === 'POST') {
      const { from, count } = await request.json<{ from: number; count: number }>();
      // sendBatch takes at most 100 messages per call.
      for (let i = 0; i < count; i += 100) {
        await env.JOBS.sendBatch(Array.from({ length: Math.min(100, count - i) }, (_, j) => ({ body: { id: from + i + j } })));
      }
      return Response.json({ sent: count });
    }
    if (url.pathname === '/tally') return Response.json(await tally(env).read());
    return new Response('not found', { status: 404 });
  },
  async queue(batch, env): Promise<void> {
    await tally(env).record(
      batch.messages.map((m) => m.body.id),
      Date.now(),
    );
    batch.ackAll();
  },
} satisfies ExportedHandler<Env, { id: number }>;
