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
/** Reads `Cache-Control` and `Age`; unknown or malformed directives are ignored. */
export declare function readFreshness(headers: Headers): Freshness;
