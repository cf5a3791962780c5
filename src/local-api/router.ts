// Route matching on raw (still percent-encoded) path segments, so an encoded `/` in a key stays
// inside the key; parameters are decoded after matching. Handlers are synchronous: nothing can
// run between their read of the state and their write (see database.ts).
import type { IncomingHttpHeaders } from 'node:http';
import type { Database } from './database.js';
import { ApiError, badRequest, notFound } from './errors.js';

/** What a handler sees of a request. */
export interface RequestContext {
  method: string;
  /** Path parameters, percent-decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  db: Database;
}

/** A handler's answer: a JSON document, raw bytes, or nothing. */
export interface Reply {
  status: number;
  json?: unknown;
  raw?: Uint8Array;
  headers?: Record<string, string>;
}

/** Handles one method on one route. */
export type Handler = (ctx: RequestContext) => Reply;

/** A path pattern (`:name` one segment, `*name` the rest) and its handlers by method. */
export interface Route {
  pattern: string;
  methods: Partial<Record<string, Handler>>;
}

/** A JSON answer. */
export function json(status: number, body: unknown): Reply {
  return { status, json: body };
}

/** An answer with no body (Fastly's 204s, and the KV store's empty 200s). */
export function empty(status: number): Reply {
  return { status };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('Malformed percent-encoding in the request path');
  }
}

function match(pattern: string[], path: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    if (part.startsWith('*')) {
      const rest = path.slice(i);
      if (rest.length === 0 || rest.every((s) => s === '')) return undefined;
      params[part.slice(1)] = rest.map(decode).join('/');
      return params;
    }
    const segment = path[i];
    if (segment === undefined) return undefined;
    if (part.startsWith(':')) {
      if (segment === '') return undefined;
      params[part.slice(1)] = decode(segment);
    } else if (part !== segment) {
      return undefined;
    }
  }
  return path.length === pattern.length ? params : undefined;
}

/** The routes, matched in order; a literal route listed first wins over a parameter. */
export class Router {
  readonly #routes: { parts: string[]; route: Route }[];

  constructor(routes: Route[]) {
    this.#routes = routes.map((route) => ({ parts: route.pattern.split('/').slice(1), route }));
  }

  /**
   * The handler and parameters for a request. Unknown paths are 404 `Record not found` (what
   * Fastly answers for unknown ids); a known path with another method is 405 with `Allow`.
   */
  resolve(method: string, rawPath: string): { handler: Handler; params: Record<string, string> } {
    const path = rawPath.split('/').slice(1);
    const allowed = new Set<string>();
    for (const { parts, route } of this.#routes) {
      const params = match(parts, path);
      if (params === undefined) continue;
      const handler = route.methods[method];
      if (handler !== undefined) return { handler, params };
      for (const m of Object.keys(route.methods)) allowed.add(m);
    }
    if (allowed.size === 0) throw notFound();
    throw new MethodNotAllowed([...allowed]);
  }
}

/** 405, carrying the methods the path does allow. */
export class MethodNotAllowed extends ApiError {
  /** Methods for the `Allow` header. */
  readonly allow: string[];

  constructor(allow: string[]) {
    super(405, 'Method Not Allowed', `Allowed: ${allow.join(', ')}`);
    this.allow = allow;
  }
}
