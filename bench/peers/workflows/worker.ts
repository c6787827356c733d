import { DurableObject, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from 'cloudflare:workers';

type Params = { steps: number; batch: string };
type Env = { FLOW: Workflow<Params>; DONE: DurableObjectNamespace<Done> };

/**
 * The peer for chain step overhead: a Cloudflare Workflow of `steps` no-op `step.do` calls, run
 * by Miniflare's Workflows engine (itself Durable Objects, like our runs). Each instance reports
 * its finish time to a per-batch `Done` object, so the bench reads one counter instead of
 * polling fifty instances (which would add load that grows with the batch's duration).
 */
export class NoopFlow extends WorkflowEntrypoint<Env, Params> {
  override async run(event: Readonly<WorkflowEvent<Params>>, step: WorkflowStep): Promise<number> {
    for (let i = 0; i < event.payload.steps; i++) await step.do(`step-${i}`, async () => i);
    const finishedAt = Date.now();
    await this.env.DONE.get(this.env.DONE.idFromName(event.payload.batch)).finished(finishedAt);
    return finishedAt;
  }
}

/** Counts finished instances of one batch and keeps the latest finish time. */
export class Done extends DurableObject<Env> {
  finished(at: number): void {
    const s = this.ctx.storage.kv;
    s.put('count', (s.get<number>('count') ?? 0) + 1);
    s.put('last', Math.max(s.get<number>('last') ?? 0, at));
  }

  read(): { count: number; last: number } {
    return { count: this.ctx.storage.kv.get<number>('count') ?? 0, last: this.ctx.storage.kv.get<number>('last') ?? 0 };
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    const batch = url.searchParams.get('batch') ?? 'default';
    if (url.pathname === '/start' && request.method === 'POST') {
      const instance = await env.FLOW.create({ params: { steps: Number(url.searchParams.get('steps') ?? 1), batch } });
      return Response.json({ id: instance.id });
    }
    if (url.pathname === '/done') return Response.json(await env.DONE.get(env.DONE.idFromName(batch)).read());
    return new Response('not found', { status: 404 });
  },
} satisfies ExportedHandler<Env>;
