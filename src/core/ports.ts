// The interfaces the core needs from the outside world. Platforms (Fastly, Node) and the
// management-API client implement them; tests implement them with hand-written fakes.

/** Wall-clock time, injected so tests can move it. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** Cryptographically secure randomness, injected so tests can make it deterministic. */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** Read access to one edge Config Store (e.g. `jwks_store`). Eventually consistent. */
export interface EdgeConfig {
  /** The item's value, or null when absent. */
  get(key: string): Promise<string | null>;
}

/** Read access to one edge Secret Store (e.g. `signing_keys`). At most 5 reads per request. */
export interface EdgeSecrets {
  /** The secret's plaintext as UTF-8 text, or null when absent. */
  get(name: string): Promise<string | null>;
}

/** One operation of a config-store bulk update, as Fastly's bulk PATCH takes it. */
export type ConfigItemOp =
  | { op: 'create' | 'update' | 'upsert'; key: string; value: string }
  | { op: 'delete'; key: string };

/**
 * Authoritative reads and writes of one deployment's key stores through the Fastly management
 * API (consistent, unlike the edge stores). Errors are `TskError`s with an `upstream_*` code.
 */
export interface KeyStoreApi {
  /** Every item of the deployment's config store (`jwks_store`), key → value. */
  readConfigItems(): Promise<Map<string, string>>;
  /** Applies the operations in one bulk request, in order. */
  patchConfigItems(ops: readonly ConfigItemOp[]): Promise<void>;
  /** Creates a secret; fails with code `secret_exists` if the name is taken. `value` is the plaintext. */
  createSecret(name: string, value: string): Promise<void>;
  /** Deletes a secret; resolves false when it did not exist. */
  deleteSecret(name: string): Promise<boolean>;
  /** Names of every secret in the deployment's signing-key secret store. */
  listSecretNames(): Promise<string[]>;
}

/** A KV entry with its generation, the handle for compare-and-set. */
export interface VersionedValue {
  value: string;
  /** Fastly's 64-bit unsigned generation, kept exact as its decimal text. */
  generation: string;
}

/**
 * Compare-and-set access to a KV store through the management API (the edge cannot see
 * generations). Used for the per-deployment mutation lease and its intent journal. Writes do not
 * return a generation: Fastly's write answers carry none, and reading it back could see a stale
 * value.
 */
export interface LeaseStoreApi {
  /** The entry and its generation (a strongly consistent read), or null when absent. */
  get(key: string): Promise<VersionedValue | null>;
  /** Writes only if absent; false when the key already exists. */
  add(key: string, value: string): Promise<boolean>;
  /** Writes only if the generation still matches; false on mismatch or absence. */
  replace(key: string, value: string, generation: string): Promise<boolean>;
  /** Deletes only if the generation still matches; false on mismatch or absence. */
  remove(key: string, generation: string): Promise<boolean>;
}

/** Counters the rate limiting uses: admin requests, failed logins, and `/verify-signature` calls. */
export type RateCounterName = 'admin_requests' | 'auth_failures' | 'verify_requests';

/**
 * Per-client counting and a penalty box (Fastly's Edge Rate Limiter at the edge, an in-memory
 * equivalent locally). Counts are approximate on Fastly; limits are set with that in mind.
 */
export interface RateLimiter {
  /** Adds one to `key` in `counter`; resolves to its count over the last 60 s, this one included. */
  increment(counter: RateCounterName, key: string): Promise<number>;
  /** Seconds `key` still has to wait in the penalty box, or 0 when it is not in it. */
  penaltySeconds(key: string): Promise<number>;
  /** Puts `key` in the penalty box for `minutes` (1–60). */
  penalize(key: string, minutes: number): Promise<void>;
}

/** One admin request, as the audit trail records it. Never holds secret material. */
export interface AuditRecord {
  time: string;
  request_id: string;
  actor: string;
  client_ip: string;
  method: string;
  route: string | null;
  path: string;
  deployment: string | null;
  keyset: string | null;
  operation: string | null;
  /** `unknown`: a change whose writes may still land (see the intent journal). */
  outcome: 'allowed' | 'refused' | 'failed' | 'unknown';
  status: number;
  error_code: string | null;
  keyring_version_before: number | null;
  keyring_version_after: number | null;
  /** An earlier operation's pending intent this request settled first, described; else null. */
  settled: string | null;
  /** Present (true) only on a dry run (`?dry_run=true`): checked and answered, nothing written. */
  dry_run?: true;
  /** Present (true) only on an activation that overrode the activation dwell (`force`). */
  forced?: true;
  /** Trusted Server's drift this request folded into the keyring, one line each; absent if none. */
  folded?: string[];
}

/** Where audit lines go (a Fastly log endpoint; a local file). */
export interface AuditSink {
  /** Writes one record as one JSON line. */
  write(record: AuditRecord): Promise<void>;
}
