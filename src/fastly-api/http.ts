// One request to the Fastly management API: URL and headers, the time bound, and the mapping of
// every failure to a TskError. Runs on Fastly Compute and on Node, so Web APIs only. The token is
// written into one header and nowhere else; whatever the server echoes is scrubbed of it too.
import { TskError } from '../core/errors.js';
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
}

/** The `User-Agent` of every call, so Fastly's logs say who called. */
export const USER_AGENT = 'trusted-server-keys/0.1';

/** The HTTP methods the client uses. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

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

/** Sends management-API requests with the token, the headers and the time bound. Never retries. */
export class Transport {
  readonly #options: FastlyApiOptions;
  readonly #base: string;

  constructor(options: FastlyApiOptions) {
    this.#options = options;
    this.#base = options.endpoint.replace(/\/+$/, '');
  }

  /** Sends the request; resolves for 2xx and `expect`ed statuses, throws a TskError otherwise. */
  async send(req: ApiRequest): Promise<ApiResponse> {
    const res = await this.#exchangeWithin(req);
    if ((res.status >= 200 && res.status < 300) || req.expect?.includes(res.status)) return res;
    throw this.failure(req, res);
  }

  /** The error for a non-2xx answer: rate limit, rejected token, or any other status. */
  failure(req: ApiRequest, res: ApiResponse): TskError {
    const { status } = res;
    const where = `${req.method} ${req.path}`;
    const body = trimBody(this.redact(res.text, req));
    const details: Record<string, unknown> = { status, method: req.method, path: req.path, body };
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
    return new TskError('upstream_failed', msg, { details });
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

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  // Promise.race bounds the call even where the runtime ignores the abort signal; the signal is
  // still passed so Node really drops the connection.
  async #exchangeWithin(req: ApiRequest): Promise<ApiResponse> {
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    const { timeoutMs } = this.#options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller?.abort();
        const msg = `Fastly API did not answer ${req.method} ${req.path} within ${timeoutMs} ms`;
        const details = { method: req.method, path: req.path, timeoutMs };
        reject(new TskError('upstream_timeout', msg, { details }));
      }, timeoutMs);
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
      const msg = `Fastly API request ${req.method} ${req.path} failed: ${reason}`;
      // The cause is kept only as text: an error object could carry the request and its headers.
      throw new TskError('upstream_failed', msg, {
        details: { method: req.method, path: req.path, cause: reason },
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
