import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process bookkeeping for memory figures. Miniflare starts one `workerd` child per instance; we
 * find it by diffing this process's workerd children before and after the instance starts, and
 * read its resident set size from /proc (Linux only; elsewhere the figures are reported as null).
 */
function childPids(parent: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name is in parentheses and may contain spaces.
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(after[1]) === parent) out.push(Number(e));
    } catch {
      // The process ended while we were listing.
    }
  }
  return out;
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** workerd processes started (directly or one level down) by this Node process. */
export function workerdPids(): Set<number> {
  const found = new Set<number>();
  for (const pid of childPids(process.pid)) {
    if (commandName(pid) === 'workerd') found.add(pid);
    for (const grandchild of childPids(pid)) if (commandName(grandchild) === 'workerd') found.add(grandchild);
  }
  return found;
}

/** Resident set size in MiB, or null when it cannot be read. */
export function rssMiB(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the last sample. */
export function sampleRss(pid: number | null, everyMs = 200): { stop: () => { peak: number | null; last: number | null } } {
  let peak: number | null = rssMiB(pid);
  let last = peak;
  const timer = setInterval(() => {
    last = rssMiB(pid);
    if (last !== null && (peak === null || last > peak)) peak = last;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      last = rssMiB(pid) ?? last;
      if (last !== null && (peak === null || last > peak)) peak = last;
      return { peak, last };
    },
  };
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat. */
export function cpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (1-based), i.e. indexes 11 and 12 after the name.
    const ticks = Number(f[11]) + Number(f[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux.
  } catch {
    return null;
  }
}
