/** Stored timestamps (integer milliseconds since the epoch) as ISO 8601 strings for the API. */
export const toIso = (ms: number): string => new Date(ms).toISOString();

export const toIsoOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : toIso(ms));
