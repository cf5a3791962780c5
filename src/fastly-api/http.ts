// One request to the Fastly management API: URL and headers, the time bound, safe retries, and the
// mapping of every failure to a TskError. Runs on Fastly Compute and on Node, so Web APIs only.
// The token is written into one header and nowhere else; whatever the server echoes is scrubbed
// of it too.
//
// Retries: a request is repeated only when repeating it cannot change the outcome. Reads (GET,
// HEAD, and calls the caller marks repeatable, such as asking for a client key) retry 429, 5xx and
// connection failures. Writes retry only what was certainly refused before processing (429, a
// refused connection), never a timeout, a dropped connection or a 5xx: that attempt may still land
// later, and even an "idempotent" write landing late would undo whatever the next operation wrote
// meanwhile (a bulk update carries the whole keyring). Every failure says so in
// `details.outcome`: `refused` (certainly not applied) or `unknown` (it may have been applied).
import { TskError } from '../core/errors.js';
import { OPERATION_BOUND_MS } from '../core/keyring/lease.js';
import { describeFailure, retryAfterSeconds, trimBody } from './failures.js';

/** Sends one request; on Fastly it must name the backend, which is the caller's business. */
export type FetchLike = (request: Request) => Promise<Response>;

/** How to reach the management API. */
export interface FastlyApiOptions {
  /** Base URL, e.g. `https://api.fastly.com` (a path prefix is kept). */
  endpoint: string;
  /** The Fastly API token, sent as `Fastly-Key`. */
  token: string;
  /** The fetch to send requests with. */
  fetch: FetchLike;
  /** Bound on each call, from sending the request to reading the whole answer. */
  timeoutMs: number;
  /** Wall clock in ms, to turn `Fastly-RateLimit-Reset` into a wait; defaults to `Date.now`. */
  now?: () => number;
  /** How failed calls are retried; see `RetryOptions` for the defaults. */
  retry?: RetryOptions;
  /**
   * Base64 Ed25519 key that must have signed the client keys secrets are sealed to. Defaults to
   * Fastly's (`FASTLY_SECRET_SIGNING_KEY`); any other is a deliberate trust decision.
   */
  secretSigningKey?: string;
  /** Cryptographic random bytes (sealed-box ephemeral keys); defaults to crypto.getRandomValues. */
  random?: (n: number) => Uint8Array;
}

/** The retry policy of one client. Randomness and sleep are injectable for deterministic tests. */
export interface RetryOptions {
  /** Retries after the first attempt, at most; default 3. 0 turns retrying off. */
  maxRetries?: number;
  /** Time one call may take, all attempts and waits included; default `DEFAULT_RETRY_BUDGET_MS`. */
  maxTotalMs?: number;
  /** An absolute deadline (ms since the epoch) no call may run past; none by default. */
  deadlineMs?: number;
  /** First backoff ceiling; it doubles per retry (full jitter: a wait in [0, ceiling)); 200 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling; default 5 s. `Retry-After` may ask for more, within the budget. */
  maxDelayMs?: number;
  /** A number in [0, 1); defaults to `Math.random` (jitter needs no cryptographic quality). */
  random?: () => number;
  /** Waits `ms`; defaults to a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Default bound on one call with its retries: half the default bound of a whole operation
 * (`OPERATION_BOUND_MS`), so one slow call leaves the operation room to finish. The app passes
 * a tighter absolute deadline (the end of the lease the request holds) on top.
 */
export const DEFAULT_RETRY_BUDGET_MS = OPERATION_BOUND_MS / 2;

/** Whether a failed call's effect is known: `refused` means certainly not applied. */
export type Outcome = 'refused' | 'unknown';

/** The `User-Agent` of every call, so Fastly's logs say who called. */
export const USER_AGENT = 'trusted-server-keys/0.1';

/** The HTTP methods the client uses. */
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const IDEMPOTENT_METHODS: ReadonlySet<Method> = new Set(['GET', 'HEAD']);

/** A request body and how to encode it. */
export type RequestBody = { form: Record<string, string> } | { json: unknown } | { raw: string };

/** One management-API call as the operations describe it. */
export interface ApiRequest {
  method: Method;
  /** Already percent-encoded (build it with `apiPath`). */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | undefined>;
  body?: RequestBody;
  /** Extra request headers (e.g. `if-generation-match`). */
  headers?: Record<string, string>;
  /** The `Accept` header; `application/json` unless the answer is a raw value. */
  accept?: string;
  /** Non-2xx statuses the caller handles itself instead of receiving an error. */
  expect?: readonly number[];
  /** Secret material sent in the body, scrubbed (like the token) from anything echoed back. */
  redact?: readonly string[];
  /**
   * Whether sending the request twice has the effect of sending it once. Defaults by method:
   * GET, HEAD, DELETE and PUT are, POST and PATCH are not. Conditional writes say false (a
   * repeat of one that landed fails its condition); a PATCH of upserts and deletes says true.
   */
  idempotent?: boolean;
}

/** The answer to one call, body already read (inside the time bound). */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Builds a path from a template, percent-encoding every interpolated segment. Empty, `.` and
 * `..` segments are refused: URL parsers collapse them (even as `%2E%2E`), so the request would
 * reach a different resource.
 */
export function apiPath(strings: TemplateStringsArray, ...segments: string[]): string {
  let path = strings[0] ?? '';
  segments.forEach((segment, i) => {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new TskError('invalid_request', `"${segment}" cannot be used as a path segment`, {
        details: { segment },
      });
    }
    path += encodeURIComponent(segment) + (strings[i + 1] ?? '');
  });
  return path;
}

/** How one attempt ended, when it did not end with an answer. */
type Thrown = TskError & { details: { failure: 'timeout' | 'connection' | 'connection_refused' } };

/** Sends management-API requests with the token, the headers, the time bound and safe retries. */
export class Transport {
  readonly #options: FastlyApiOptions;
  readonly #base: string;

  constructor(options: FastlyApiOptions) {
    this.#options = options;
    this.#base = options.endpoint.replace(/\/+$/, '');
  }

  /**
   * Sends the request, retrying what is safe to retry within the budget; resolves for 2xx and
   * `expect`ed statuses, throws a TskError otherwise (the last attempt's).
   */
  async send(req: ApiRequest): Promise<ApiResponse> {
    const retry = this.#options.retry ?? {};
    const maxRetries = retry.maxRetries ?? 3;
    const startedAt = this.#now();
    const deadline = Math.min(
      startedAt + (retry.maxTotalMs ?? DEFAULT_RETRY_BUDGET_MS),
      retry.deadlineMs ?? Infinity,
    );
    const idempotent = req.idempotent ?? IDEMPOTENT_METHODS.has(req.method);
    if (retry.deadlineMs !== undefined && startedAt >= retry.deadlineMs) {
      throw new TskError(
        'upstream_timeout',
        `the time for ${req.method} ${req.path} ran out before it was sent`,
        { details: { method: req.method, path: req.path, failure: 'timeout', outcome: 'refused' } },
      );
    }
    for (let attempt = 0; ; attempt++) {
      // A retry, or any attempt under the caller's own deadline, never runs past the deadline;
      // the first attempt under the default budget gets its full timer.
      const bounded = attempt > 0 || retry.deadlineMs !== undefined;
      const timeoutMs = bounded
        ? Math.min(this.#options.timeoutMs, deadline - this.#now())
        : this.#options.timeoutMs;
      let error: TskError;
      let waitHintMs: number | undefined;
      try {
        const res = await this.#exchangeWithin(req, timeoutMs);
        if ((res.status >= 200 && res.status < 300) || req.expect?.includes(res.status)) {
          return res;
        }
        error = this.failure(req, res);
        if (!retriableStatus(res.status, idempotent)) throw error;
        waitHintMs = waitHint(res.headers, this.#now());
      } catch (err) {
        if (!isThrown(err)) throw err;
        error = err;
        if (!retriableThrown(err, idempotent)) throw err;
      }
      if (attempt >= maxRetries) throw error;
      const ceiling = Math.min(
        retry.maxDelayMs ?? 5_000,
        (retry.baseDelayMs ?? 200) * 2 ** attempt,
      );
      const jitter = Math.floor((retry.random ?? Math.random)() * ceiling);
      const waitMs = Math.max(jitter, waitHintMs ?? 0);
      // Sleeping past the budget would only fail later; answer the failure now.
      if (this.#now() + waitMs >= deadline) throw error;
      await (retry.sleep ?? sleep)(waitMs);
      if (this.#now() >= deadline) throw error;
    }
  }

  /** The error for a non-2xx answer: rate limit, rejected token, or any other status. */
  failure(req: ApiRequest, res: ApiResponse): TskError {
    const { status } = res;
    const where = `${req.method} ${req.path}`;
    const body = trimBody(this.redact(res.text, req));
    // A 4xx was refused as a whole; after a 5xx the write may or may not have been applied.
    const outcome: Outcome = status >= 500 ? 'unknown' : 'refused';
    const details: Record<string, unknown> = {
      status,
      method: req.method,
      path: req.path,
      body,
      outcome,
    };
    if (status === 429) {
      const wait = retryAfterSeconds(res.headers, this.#now());
      if (wait !== undefined) details['retryAfterSeconds'] = wait;
      return new TskError('upstream_rate_limited', `Fastly API rate limit reached (${where})`, {
        details,
      });
    }
    if (status === 401 || status === 403) {
      const msg = `Fastly API rejected the API token (${status}) for ${where}`;
      return new TskError('upstream_failed', msg, { details });
    }
    const reason = describeFailure(this.redact(res.text, req));
    const msg = `Fastly API answered ${status} to ${where}${reason ? `: ${reason}` : ''}`;
    return new TskError('upstream_failed', msg, { details: { ...details, failure: 'status' } });
  }

  /** The error for a 2xx answer whose body or headers are not what the API documents. */
  malformed(req: ApiRequest, res: ApiResponse, what: string): TskError {
    const msg = `Fastly API answer to ${req.method} ${req.path} ${what}`;
    const details = {
      status: res.status,
      method: req.method,
      path: req.path,
      body: trimBody(this.redact(res.text, req)),
    };
    // No `cause`: a JSON SyntaxError quotes the body, which has not been scrubbed of the token.
    return new TskError('upstream_failed', msg, { details });
  }

  /** Removes the token (and the request's secrets) from text a server or runtime produced. */
  redact(text: string, req?: ApiRequest): string {
    // Very short values are skipped: scrubbing every "ab" would garble the text and hide nothing.
    const secrets = [this.#options.token, ...(req?.redact ?? []).filter((s) => s.length >= 8)];
    let out = text;
    for (const secret of secrets) {
      if (secret.length > 0) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  /** The wall clock the transport reads (injectable for tests). */
  now(): number {
    return this.#now();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  // Promise.race bounds the call even where the runtime ignores the abort signal; the signal is
  // still passed so Node really drops the connection.
  async #exchangeWithin(req: ApiRequest, timeoutMs: number): Promise<ApiResponse> {
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          controller?.abort();
          const msg = `Fastly API did not answer ${req.method} ${req.path} within ${timeoutMs} ms; it may or may not have been applied`;
          const details = {
            method: req.method,
            path: req.path,
            timeoutMs,
            failure: 'timeout',
            outcome: 'unknown',
          };
          reject(new TskError('upstream_timeout', msg, { details }));
        },
        Math.max(0, timeoutMs),
      );
    });
    try {
      return await Promise.race([this.#exchange(req, controller?.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #exchange(req: ApiRequest, signal: AbortSignal | undefined): Promise<ApiResponse> {
    try {
      const response = await this.#options.fetch(this.#request(req, signal));
      // Read the body here so that a stalled body is bounded by the same timer.
      const text = await response.text();
      return { status: response.status, headers: response.headers, text };
    } catch (cause) {
      const reason = this.redact(describeThrown(cause), req);
      // Only a refused connection proves nothing was sent; any other failure (a reset, a socket
      // closed mid-answer) may have come after the server applied the request.
      const refused = connectionRefused(cause);
      const msg = refused
        ? `Fastly API refused the connection for ${req.method} ${req.path}: ${reason}`
        : `Fastly API request ${req.method} ${req.path} failed: ${reason}; it may or may not have been applied`;
      // The cause is kept only as text: an error object could carry the request and its headers.
      throw new TskError('upstream_failed', msg, {
        details: {
          method: req.method,
          path: req.path,
          cause: reason,
          failure: refused ? 'connection_refused' : 'connection',
          outcome: refused ? 'refused' : 'unknown',
        },
      });
    }
  }

  #request(req: ApiRequest, signal: AbortSignal | undefined): Request {
    const headers = new Headers(req.headers);
    headers.set('Fastly-Key', this.#options.token);
    headers.set('Accept', req.accept ?? 'application/json');
    headers.set('User-Agent', USER_AGENT);
    let body: string | undefined;
    if (req.body && 'form' in req.body) {
      body = new URLSearchParams(req.body.form).toString();
      headers.set('Content-Type', 'application/x-www-form-urlencoded');
    } else if (req.body && 'json' in req.body) {
      body = JSON.stringify(req.body.json);
      headers.set('Content-Type', 'application/json');
    } else if (req.body) {
      body = req.body.raw;
      headers.set('Content-Type', 'application/octet-stream');
    }
    const init: RequestInit = { method: req.method, headers };
    if (body !== undefined) init.body = body;
    if (signal) init.signal = signal;
    return new Request(this.#base + req.path + queryString(req.query), init);
  }
}

function isThrown(err: unknown): err is Thrown {
  if (!(err instanceof TskError)) return false;
  const failure = err.details?.['failure'];
  return failure === 'timeout' || failure === 'connection' || failure === 'connection_refused';
}

/** 429 was refused before processing, so any request may repeat it; a 5xx only idempotent ones. */
function retriableStatus(status: number, idempotent: boolean): boolean {
  return status === 429 || (status >= 500 && idempotent);
}

/** A refused connection sent nothing, so any request may repeat it; other failures only idempotent ones. */
function retriableThrown(err: Thrown, idempotent: boolean): boolean {
  return err.details.failure === 'connection_refused' || idempotent;
}

/** The wait a 429 or 503 answer asks for, in ms, or undefined. */
function waitHint(headers: Headers, nowMs: number): number | undefined {
  const seconds = retryAfterSeconds(headers, nowMs);
  return seconds === undefined ? undefined : seconds * 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Codes that mean the connection was never made, so no byte of the request left. */
const NOT_CONNECTED = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\b/;

function connectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_CONNECTED.test(code)) return true;
    if (NOT_CONNECTED.test(e.message)) return true;
    e = e.cause;
  }
  return false;
}

// Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause.
function describeThrown(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = err.cause instanceof Error ? err.cause.message : undefined;
  return inner && inner !== err.message ? `${err.message} (${inner})` : err.message;
}

function queryString(query: Record<string, string | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
