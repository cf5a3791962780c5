// HTTP to the edge (and the local Fastly API): one request at a time, bounded by the timeout,
// never retried, and every failure turned into a CliError with the server's own code and the
// exit code scripts rely on.
import { CliError, EXIT, exitCodeFor } from './errors.js';
import { withProgress, type ProgressTarget } from './progress.js';

/** How to reach a server. */
export interface ClientOptions {
  /** Base URL; a path prefix is kept (`https://host/base` → `https://host/base/admin/...`). */
  baseUrl: string;
  /** Headers that carry credentials; sent only on requests that ask for them. */
  credentials?: Record<string, string>;
  timeoutMs: number;
  fetch: typeof fetch;
  progress: ProgressTarget;
}

/** One request. */
export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the credentials (default true when the client has some). */
  auth?: boolean;
}

/** A successful answer, with its body both as received and parsed. */
export interface Answer {
  status: number;
  headers: Headers;
  /** The body exactly as the server sent it (what `-o json` prints). */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** A client for one server. */
export class HttpClient {
  readonly #options: ClientOptions;
  /** The server as shown to people: the origin only, never credentials in a URL. */
  readonly origin: string;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.origin = new URL(options.baseUrl).origin;
  }

  /** Sends one request; 2xx answers return, everything else throws a CliError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const { credentials, timeoutMs } = this.#options;
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.auth !== false && credentials) Object.assign(headers, credentials);
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    const exchange = async (): Promise<{ response: Response; text: string }> => {
      const response = await this.#options.fetch(this.#url(path), init);
      return { response, text: await response.text() };
    };
    let response: Response;
    let text: string;
    try {
      ({ response, text } = await withProgress(this.#options.progress, this.origin, exchange()));
    } catch (err) {
      throw this.#transportError(err);
    }
    const json = parseJson(text);
    if (response.status >= 200 && response.status < 300) {
      return { status: response.status, headers: response.headers, text, json };
    }
    throw httpError(response, json);
  }

  #url(path: string): string {
    const base = this.#options.baseUrl.endsWith('/')
      ? this.#options.baseUrl
      : `${this.#options.baseUrl}/`;
    return new URL(path.replace(/^\//, ''), base).href;
  }

  #transportError(err: unknown): CliError {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      const seconds = this.#options.timeoutMs / 1000;
      return new CliError(
        'timeout',
        `no answer from ${this.origin} within ${seconds} s (raise it with --timeout SECONDS)`,
        EXIT.failure,
      );
    }
    return new CliError(
      'connection_failed',
      `could not reach ${this.origin}: ${describeCause(err)}`,
      EXIT.failure,
    );
  }
}

/** The server's code and message from problem+json (`detail`), Trusted Server (`error`) or Fastly (`msg`). */
function httpError(response: Response, json: unknown): CliError {
  const body = isRecord(json) ? json : {};
  const code = firstString(body['code']) ?? `http_${response.status}`;
  const message =
    firstString(body['detail'], body['error'], body['msg'], body['title']) ??
    `HTTP ${response.status} ${response.statusText}`.trim();
  const outcome = firstString(body['outcome']);
  const exit = exitCodeFor(response.status, firstString(body['code']), outcome);
  const details: Record<string, unknown> = { status: response.status };
  if (json !== undefined) details['response'] = json;
  // A script needs to know when to come back: Retry-After in seconds (or an HTTP date), on a
  // rate limit and on any refusal that names when it will be allowed (activation_too_early).
  const retry = retryAfterSeconds(response.headers.get('retry-after'));
  if (retry !== undefined) details['retry_after_seconds'] = retry;
  if (exit !== EXIT.rateLimited) return new CliError(code, message, exit, undefined, details);
  if (retry === undefined) {
    return new CliError(code, message, exit, 'wait a minute before retrying', details);
  }
  return new CliError(code, `${message} (retry after ${retry} s)`, exit, undefined, details);
}

/** `Retry-After` as whole seconds from now, from delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function retryAfterSeconds(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (!/[A-Za-z]/.test(text) || Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Why fetch failed, from its cause chain (`ECONNREFUSED`, `ENOTFOUND` ...), never a URL's credentials. */
function describeCause(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      return current.message.includes(code) ? current.message : `${code}: ${current.message}`;
    }
    if (current.cause === undefined) return current.message;
    current = current.cause;
  }
  return 'the request failed';
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.length > 0);
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
