// The publisher's key document, cached as partners need it: reused while Cache-Control says it
// is fresh, revalidated with If-None-Match (a 304 costs no body), refetched early at most once
// per cooldown when a kid it does not list shows up, and served past its freshness only within
// the stale-while-revalidate / stale-if-error bounds. One fetch at a time, shared by all callers.
// Not jose's createRemoteJWKSet: it has a cooldown but neither ETag/304 nor Cache-Control, and it
// reads only a bare JWKS, so it would miss the discovery document's `tainted_kids`. jose still
// imports each JWK (keys.ts).
import { readFreshness, type Freshness } from './cache-control.js';
import { importKeys, type CryptoChoice, type PublicKey } from './keys.js';
import { readTaintCutoffs } from './taint-cutoff.js';

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

export type KeyLookup =
  | {
      ok: true;
      key: PublicKey;
      tainted: boolean;
      /** A tainted key's published cutoff (ms), when the document gives one. */
      taintCutoffMs?: number;
      stale: boolean;
    }
  | { ok: false; reason: 'unknown_kid' | 'keys_unavailable'; detail: string };

interface Cached {
  set: KeySet;
  etag: string | null;
  freshness: Freshness;
  freshUntil: number;
  revalidateUntil: number;
  staleUntil: number;
}

/** Why a refresh failed; said in the refusal, never containing key material. */
class FetchFailure extends Error {}

export class KeySource {
  private cached: Cached | null = null;
  private inflight: Promise<void> | null = null;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private lastFailure = 'the key document was never fetched';
  private lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: KeySourceOptions) {}

  /** The key for `kid`, fetching or revalidating the document when the contract allows it. */
  async lookup(kid: string): Promise<KeyLookup> {
    await this.ensureFresh();
    let found = this.find(kid);
    if (found.ok || found.reason === 'keys_unavailable') return found;
    // A kid we do not know: maybe the publisher rotated since we fetched. Join a fetch already
    // under way, or start one, at most once per cooldown so unknown kids cannot make us hammer.
    if (this.inflight) {
      await this.inflight;
      found = this.find(kid);
    } else if (this.mayFetchForUnknownKid()) {
      this.lastUnknownKidFetchAt = this.options.now();
      await this.refresh();
      found = this.find(kid);
    }
    return found;
  }

  /** Resolves once no fetch is under way (a background revalidation included). */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  private find(kid: string): KeyLookup {
    const now = this.options.now();
    const c = this.cached;
    if (!c) return { ok: false, reason: 'keys_unavailable', detail: this.lastFailure };
    if (now >= Math.max(c.freshUntil, c.revalidateUntil, c.staleUntil)) {
      return {
        ok: false,
        reason: 'keys_unavailable',
        detail: `${this.lastFailure}; the last good key set is past its stale-if-error bound`,
      };
    }
    const key = c.set.keys.get(kid);
    if (!key)
      return { ok: false, reason: 'unknown_kid', detail: `no published key has kid "${kid}"` };
    const tainted = c.set.tainted.has(kid);
    const cutoff = tainted ? c.set.taintCutoffs.get(kid) : undefined;
    return {
      ok: true,
      key,
      tainted,
      ...(cutoff !== undefined ? { taintCutoffMs: cutoff } : {}),
      stale: now >= c.freshUntil,
    };
  }

  private mayFetchForUnknownKid(): boolean {
    const now = this.options.now();
    const { cooldownMs } = this.options;
    return now - this.lastUnknownKidFetchAt >= cooldownMs && now - this.lastFailureAt >= cooldownMs;
  }

  private async ensureFresh(): Promise<void> {
    const now = this.options.now();
    const c = this.cached;
    if (c && now < c.freshUntil) return;
    // After a failure, wait a cooldown before the next attempt: a publisher that is down must
    // not get one request per verification.
    if (now - this.lastFailureAt < this.options.cooldownMs) return;
    if (c && now < c.revalidateUntil) {
      // stale-while-revalidate: answer from the cache now, refresh behind it.
      void this.refresh();
      return;
    }
    await this.refresh();
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchOnce().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<void> {
    const started = this.options.now();
    try {
      await this.fetchDocument(started);
      this.lastFailureAt = Number.NEGATIVE_INFINITY;
    } catch (err) {
      this.lastFailureAt = this.options.now();
      this.lastFailure =
        err instanceof FetchFailure ? err.message : 'the key document could not be fetched';
    }
  }

  private async fetchDocument(started: number): Promise<void> {
    const headers = new Headers({ accept: 'application/json' });
    const previous = this.cached;
    if (previous?.etag) headers.set('if-none-match', previous.etag);
    const response = await this.send(headers);
    if (response.status === 304 && previous) {
      await response.body?.cancel();
      const fresh = response.headers.has('cache-control')
        ? readFreshness(response.headers)
        : { ...previous.freshness, age: readFreshness(response.headers).age };
      this.cached = { ...previous, ...this.lifetime(started, fresh), freshness: fresh };
      return;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new FetchFailure(`the key document answered HTTP ${response.status}`);
    }
    const text = await readLimited(response, this.options.maxDocumentBytes);
    const set = await this.parse(text);
    const freshness = readFreshness(response.headers);
    this.cached = {
      set,
      etag: response.headers.get('etag'),
      freshness,
      ...this.lifetime(started, freshness),
    };
  }

  /**
   * One request, bounded by `timeoutMs` (0: no bound of ours). Fastly Compute has no
   * AbortController, so the bound is a race there: the request is abandoned, not cancelled.
   */
  private async send(headers: Headers): Promise<Response> {
    const { timeoutMs } = this.options;
    const abort = typeof AbortController === 'function' ? new AbortController() : null;
    const fetching = this.options.fetch(this.options.url, {
      headers,
      ...(abort ? { signal: abort.signal } : {}),
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout =
      timeoutMs > 0
        ? new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => {
              // Settle the race first, so the abort's own rejection cannot win it.
              reject(new FetchFailure(`the key document did not answer within ${timeoutMs} ms`));
              abort?.abort();
            }, timeoutMs);
          })
        : null;
    // A request that fails after the timeout won must not surface as an unhandled rejection.
    fetching.catch(() => undefined);
    try {
      return await (timeout ? Promise.race([fetching, timeout]) : fetching);
    } catch (err) {
      if (err instanceof FetchFailure) throw err;
      throw new FetchFailure('the key document could not be fetched (network error)');
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private lifetime(
    at: number,
    f: Freshness,
  ): Pick<Cached, 'freshUntil' | 'revalidateUntil' | 'staleUntil'> {
    const o = this.options;
    const maxAgeMs = f.noCache ? 0 : f.maxAge === null ? o.defaultMaxAgeMs : f.maxAge * 1000;
    const freshUntil = at + Math.min(Math.max(maxAgeMs - f.age * 1000, 0), o.maxCacheMs);
    const bound = (s: number | null, fallbackMs: number): number =>
      freshUntil + Math.min(s === null ? fallbackMs : s * 1000, o.maxStaleMs);
    return {
      freshUntil,
      revalidateUntil: bound(f.staleWhileRevalidate, 0),
      staleUntil: bound(f.staleIfError, o.staleIfErrorMs),
    };
  }

  private async parse(text: string): Promise<KeySet> {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new FetchFailure('the key document is not JSON');
    }
    const obj = isObject(doc) ? doc : {};
    // The discovery document nests Trusted Server's JWKS under `jwks`; a bare JWKS has `keys`.
    const jwks = isObject(obj.jwks) ? obj.jwks : obj;
    if (!Array.isArray(jwks.keys))
      throw new FetchFailure('the key document is neither a discovery document nor a JWKS');
    const tainted = obj.tainted_kids ?? [];
    if (!Array.isArray(tainted) || !tainted.every((k) => typeof k === 'string'))
      throw new FetchFailure('the discovery document has a malformed tainted_kids');
    const taintCutoffs = readTaintCutoffs(obj.taint_cutoffs);
    if (typeof taintCutoffs === 'string') throw new FetchFailure(taintCutoffs);
    const keys = await importKeys(jwks.keys, this.options.crypto).catch(() => {
      // Only `crypto: 'webcrypto'` throws: it forbids the fallback this runtime would need.
      throw new FetchFailure('this runtime has no WebCrypto Ed25519 (crypto: "webcrypto")');
    });
    // An empty set is no "good" set to replace the last one with: keep serving that instead.
    if (keys.size === 0) throw new FetchFailure('the key document lists no usable Ed25519 key');
    const version = obj.keyring_version;
    return {
      keys,
      tainted: new Set(tainted as string[]),
      taintCutoffs,
      keyringVersion: typeof version === 'number' ? version : null,
    };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body as text, refusing more than `limit` bytes without reading the rest. */
async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  const tooBig = new FetchFailure(`the key document is larger than ${limit} bytes`);
  if (declared > limit) {
    await response.body?.cancel();
    throw tooBig;
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw tooBig;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    throw new FetchFailure('the key document is not UTF-8');
  }
}
