import { type CryptoChoice, type PublicKey } from './keys.js';
/** The keys one document published. */
export interface KeySet {
    keys: Map<string, PublicKey>;
    /** Kids the discovery document lists in `tainted_kids` (always empty for a bare JWKS). */
    tainted: Set<string>;
    /** The discovery document's `taint_cutoffs` in ms, by kid (empty without one). */
    taintCutoffs: Map<string, number>;
    /** The discovery document's `keyring_version`, when it has one. */
    keyringVersion: number | null;
}
export interface KeySourceOptions {
    url: string;
    /** The fetch signature, so the global fetch fits (on Fastly Compute, add its `backend`). */
    fetch: (url: string, init: RequestInit) => Promise<Response>;
    now: () => number;
    crypto: CryptoChoice;
    cooldownMs: number;
    /** Freshness when the response says nothing. */
    defaultMaxAgeMs: number;
    /** Cap on the freshness a response may ask for. */
    maxCacheMs: number;
    /** stale-if-error when the response says nothing. */
    staleIfErrorMs: number;
    /** Cap on serving past freshness, whatever the response says. */
    maxStaleMs: number;
    timeoutMs: number;
    maxDocumentBytes: number;
}
export type KeyLookup = {
    ok: true;
    key: PublicKey;
    tainted: boolean;
    /** A tainted key's published cutoff (ms), when the document gives one. */
    taintCutoffMs?: number;
    stale: boolean;
} | {
    ok: false;
    reason: 'unknown_kid' | 'keys_unavailable';
    detail: string;
};
export declare class KeySource {
    private readonly options;
    private cached;
    private inflight;
    private lastFailureAt;
    private lastFailure;
    private lastUnknownKidFetchAt;
    constructor(options: KeySourceOptions);
    /** The key for `kid`, fetching or revalidating the document when the contract allows it. */
    lookup(kid: string): Promise<KeyLookup>;
    /** Resolves once no fetch is under way (a background revalidation included). */
    idle(): Promise<void>;
    private find;
    private mayFetchForUnknownKid;
    private ensureFresh;
    private refresh;
    private fetchOnce;
    private fetchDocument;
    /**
     * One request, bounded by `timeoutMs` (0: no bound of ours). Fastly Compute has no
     * AbortController, so the bound is a race there: the request is abandoned, not cancelled.
     */
    private send;
    private lifetime;
    private parse;
}
