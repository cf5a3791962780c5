// The `active-kids` config item: the published kids, comma-joined.

/** Splits on commas, trims, drops empties (Trusted Server's parse). */
export function parseActiveKids(value: string | null): string[] {
  if (value === null) return [];
  return value
    .split(',')
    .map((kid) => kid.trim())
    .filter((kid) => kid.length > 0);
}

/** Joins kids the way Trusted Server writes them. */
export function formatActiveKids(kids: readonly string[]): string {
  return kids.join(',');
}
