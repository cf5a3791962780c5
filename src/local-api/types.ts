// The public contract of the local Fastly management API. Other folders (the Node edge, the test
// suites, `npm start`) code against exactly these shapes, so they change only with the design.

/** Where and how to run the local API. */
export interface LocalApiOptions {
  /** Directory holding the token and the state file; created (mode 0700) if missing. */
  stateDir: string;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; default 7677; 0 picks a free port. */
  port?: number;
  /** Where `TSK_FAULTS` (faults armed at start) is read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * How far behind the API's state edge reads (`edgeConfigItem`) are, as Fastly's edge stores lag
   * its management API; default 0 (the edge sees every write at once).
   */
  propagationDelayMs?: number;
}

/** A store's identity: the API addresses it by id, the edge by name. */
export interface StoreRef {
  id: string;
  name: string;
}

/**
 * A fault that the next matching authenticated requests suffer, for tests of retries and failure
 * paths. By default it strikes before the request is handled (a failed write changes nothing).
 */
export interface FaultSpec {
  /** HTTP method to match (any when omitted); compared case-insensitively. */
  method?: string;
  /** Matched against the raw request path, without the query string. */
  path: RegExp;
  /** Answer with this status instead of the real answer; omitted: only delay (or drop). */
  status?: number;
  /** How many matching requests the fault affects; default 1. `Infinity` for all. */
  times?: number;
  /** Wait this long first (before failing, handling, or dropping). */
  delayMs?: number;
  /** Raw response body for the failure; default `{"msg": ...}` naming the injected fault. */
  body?: string;
  /**
   * `before` (default): fail without handling. `after`: handle the request (a write lands), then
   * answer `status` or drop: the answer says failure, or nothing, although it was applied.
   */
  mode?: 'before' | 'after';
  /** Close the connection without any answer (excludes `status`). */
  drop?: boolean;
}

/** One answered request, as recorded for tests. */
export interface RequestLogEntry {
  method: string;
  /** The raw request path without the query string. */
  path: string;
  /** The status answered; 0 when an injected fault dropped the connection instead. */
  status: number;
}

/** Direct access to the local API's state: edge-style reads and test hooks. */
export interface LocalApiState {
  /** The config store with this name, if any. */
  findConfigStore(name: string): StoreRef | undefined;
  /** The secret store with this name, if any. */
  findSecretStore(name: string): StoreRef | undefined;
  /** The KV store with this name, if any. */
  findKvStore(name: string): StoreRef | undefined;
  /** Read of a config item as the API holds it now; null if absent. */
  configItem(storeId: string, key: string): string | null;
  /**
   * Read of a config item as an edge sees it: the value it had `propagationDelayMs` ago (the
   * value now when there is no delay); null if absent.
   */
  edgeConfigItem(storeId: string, key: string): string | null;
  /** Edge-style read of a secret's plaintext bytes (the decoded `secret` field); null if absent. */
  secretPlaintext(storeId: string, name: string): Uint8Array | null;
  /** Makes the next `times` requests matching method+path fail or wait; returns its remover. */
  injectFault(fault: FaultSpec): () => void;
  /** Every answered request in order (`METHOD path` and status), for tests asserting calls. */
  readonly requestLog: ReadonlyArray<RequestLogEntry>;
}

/** A running local API. */
export interface LocalApi {
  /** Base URL, e.g. `http://127.0.0.1:7677` (the actual port when 0 was requested). */
  readonly url: string;
  /** The token accepted in the `Fastly-Key` header. */
  readonly token: string;
  /** Edge-style reads and test hooks. */
  readonly state: LocalApiState;
  /** Stops listening and closes open connections; state is already on disk. */
  close(): Promise<void>;
}
