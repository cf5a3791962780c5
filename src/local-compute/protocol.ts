// The messages between the host (main thread) and a guest worker. The guest blocks in hostcalls,
// so everything it needs from the outside (stores, backends, the rate limiter) is a synchronous
// call: it posts a `call` on its port and waits on a shared flag until the host has answered.

/** A header list in order; names are lower case (as Fastly and Viceroy hand them to the guest). */
export type HeaderList = Array<[string, string]>;

/** The downstream request one instance serves. */
export interface DownstreamRequest {
  method: string;
  /** Absolute URL, as Compute gives it (`http://host/path?query`). */
  uri: string;
  headers: HeaderList;
  /** The body, or its start when `streamed`: then the rest is read through `body_read`. */
  body: Uint8Array;
  streamed?: boolean;
  clientIp: string;
  serverIp: string;
  /** Fastly's request id for this request (hex). */
  requestId: string;
  /** Variables the guest's environment holds besides Fastly's own (the host's, not the client's). */
  env?: Record<string, string>;
}

/** A request the guest sends to a named backend. */
export interface BackendRequest {
  backend: string;
  method: string;
  uri: string;
  headers: HeaderList;
  body: Uint8Array;
}

/** A backend's buffered answer, or why there is none. */
export type BackendResponse =
  | { ok: true; status: number; headers: HeaderList; body: Uint8Array }
  | { ok: false; reason: 'unknown_backend' | 'connection_refused' | 'timeout'; message: string };

/** Synchronous questions of the guest; each names its answer type in `HostCallResult`. */
export type HostCall =
  | { op: 'config_exists'; store: string }
  | { op: 'config_get'; store: string; key: string }
  | { op: 'secret_store_exists'; store: string }
  | { op: 'secret_get'; store: string; key: string }
  | { op: 'kv_exists'; store: string }
  | { op: 'body_read' }
  | { op: 'backend_exists'; backend: string }
  | { op: 'fetch_wait'; ids: number[]; timeoutMs: number }
  | { op: 'fetch_take'; id: number }
  | { op: 'erl_increment'; counter: string; entry: string; delta: number }
  | { op: 'erl_count'; counter: string; entry: string; seconds: number }
  | { op: 'erl_rate'; counter: string; entry: string; seconds: number }
  | { op: 'pb_add'; box: string; entry: string; ttlSeconds: number }
  | { op: 'pb_has'; box: string; entry: string };

/** Messages a worker posts to the host (one port, so their order is kept). */
export type GuestMessage =
  | { type: 'call'; seq: number; call: HostCall }
  | { type: 'fetch_start'; id: number; request: BackendRequest }
  | { type: 'start'; run: number }
  | { type: 'head'; run: number; status: number; headers: HeaderList }
  | { type: 'chunk'; run: number; bytes: Uint8Array }
  | { type: 'end'; run: number }
  | { type: 'log'; endpoint: string; line: string }
  | { type: 'stdout'; fd: number; text: string }
  | { type: 'unsupported'; name: string }
  | {
      type: 'done';
      run: number;
      outcome: RunOutcome;
      timings: { instantiateMs: number; runMs: number };
    };

/** How a run ended, as far as the guest worker can tell. */
export type RunOutcome =
  | { kind: 'ok' }
  | { kind: 'exit'; code: number }
  | { kind: 'trap'; message: string }
  | { kind: 'no_response' };

/** Messages the host posts to a worker. */
export interface RunMessage {
  type: 'run';
  run: number;
  request: DownstreamRequest;
}
