import { cpuMs, sampleRss } from './procs';
import { profileWhile, summarize, type ProfileSummary } from './profile';
import type { Ctx } from './types';
import { applyMigrations, startWorker, type Running } from './workers';

/**
 * Starts our worker on a fresh workerd (empty D1, KV and Durable Object storage) with the D1
 * migrations applied, and with workerd's inspector on a free port so that a scenario can take a
 * CPU profile of our isolate when a target is missed.
 */
/**
 * The converter Worker (files to Markdown and back) is a Worker of its own behind our CONVERTER
 * service binding; no scenario converts a file, so the binding answers 503 in the bench instead of
 * a second worker sharing the measured machine.
 */
export const CONVERTER_STANDIN = {
  serviceBindings: { CONVERTER: () => new Response('the converter Worker is not run by the bench', { status: 503 }) },
};

export async function startOurs(ctx: Ctx): Promise<Running> {
  const running = await startWorker(await ctx.build('ours'), { inspectorPort: await ctx.freePort(), extra: CONVERTER_STANDIN });
  try {
    await applyMigrations(running, ctx.root);
  } catch (err) {
    await running.dispose();
    throw err;
  }
  return running;
}

/** The inspector ids of our isolate and of Miniflare's local D1 stand-in. */
export const OUR_TARGETS = (name: string) => [`core:user:${name}`, 'd1:db'];

/** Runs `fn` while profiling our isolate and the local D1 isolate; returns their summaries. */
export async function profileOurs<T>(ctx: Ctx, running: Running, fn: () => Promise<T>): Promise<{ result: T; profiles: ProfileSummary[] }> {
  if (running.inspectorPort === null) throw new Error('our worker was started without an inspector port');
  const bundle = (await ctx.build('ours')).modules[0]!.path;
  const { result, profiles } = await profileWhile(running.inspectorPort, OUR_TARGETS(running.name), fn);
  return { result, profiles: [...profiles].map(([t, p]) => summarize(t, p, t.startsWith('core:user:') ? bundle : undefined)) };
}

/** Measures what `fn` costs workerd: CPU time (user + system) and resident memory, from /proc. */
export async function metered<T>(
  pid: number | null,
  fn: () => Promise<T>,
): Promise<{ result: T; cpuMs: number | null; peakMiB: number | null; lastMiB: number | null }> {
  const cpu0 = cpuMs(pid);
  const rss = sampleRss(pid);
  try {
    const result = await fn();
    const cpu1 = cpuMs(pid);
    const mem = rss.stop();
    return { result, cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, peakMiB: mem.peak, lastMiB: mem.last };
  } catch (err) {
    rss.stop();
    throw err;
  }
}
