// The parts of HTTP caching (RFC 9111, RFC 5861) a key document's freshness depends on.

/** Freshness directives of one response, in seconds; null where the response says nothing. */
export interface Freshness {
  maxAge: number | null;
  staleWhileRevalidate: number | null;
  staleIfError: number | null;
  /** `no-cache` / `no-store`: reuse only after revalidating. */
  noCache: boolean;
  /** The `Age` header: seconds the response already spent in a cache on the way. */
  age: number;
}

const seconds = (v: string | undefined): number | null =>
  v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : null;

/** Reads `Cache-Control` and `Age`; unknown or malformed directives are ignored. */
export function readFreshness(headers: Headers): Freshness {
  const directives = new Map<string, string | undefined>();
  for (const part of (headers.get('cache-control') ?? '').split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (!name) continue;
    const key = name.toLowerCase();
    // The first occurrence wins, as RFC 9111 §4.2.1 lets a cache choose, so a repeat cannot widen it.
    if (!directives.has(key)) directives.set(key, value?.replace(/^"(.*)"$/, '$1'));
  }
  return {
    maxAge: seconds(directives.get('max-age')),
    staleWhileRevalidate: seconds(directives.get('stale-while-revalidate')),
    staleIfError: seconds(directives.get('stale-if-error')),
    noCache: directives.has('no-cache') || directives.has('no-store'),
    age: seconds(headers.get('age') ?? undefined) ?? 0,
  };
}
