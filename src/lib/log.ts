const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = Exclude<keyof typeof LEVELS, 'silent'>;

/**
 * Structured JSON logs, one object per line, which Workers Logs (observability) indexes by
 * field. `threshold` is the configured LOG_LEVEL; unknown values fall back to `info`.
 */
export function log(threshold: string | undefined, level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const min = LEVELS[(threshold ?? 'info') as keyof typeof LEVELS] ?? LEVELS.info;
  if (LEVELS[level] < min) return;
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
