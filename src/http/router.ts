// A small, strict router: exact, case-sensitive segments; `:name` captures one segment. Paths
// with encoded separators, empty segments or trailing slashes match nothing, so no spelling of a
// path can reach an admin handler other than its own.
import { TskError } from '../core/errors.js';
import type { Role } from '../core/auth/admin-token.js';
import type { RequestContext } from './context.js';

/** A route handler. */
export type Handler = (ctx: RequestContext) => Promise<Response>;

/** How a route renders errors: Trusted Server's shapes on its routes, problem+json elsewhere. */
export type ErrorStyle = 'problem' | 'rotate' | 'deactivate' | 'sign' | 'verify' | 'public';

/** One route. */
export interface Route {
  pattern: string;
  methods: Readonly<Partial<Record<string, Handler>>>;
  /** Role needed; absent for public routes. */
  role?: Role;
  errors: ErrorStyle;
}

/** The result of matching a path. */
export interface Match {
  route: Route;
  params: Record<string, string>;
}

/** Splits a raw path into decoded segments; `invalid_request` for encodings that hide structure. */
export function pathSegments(rawPath: string): string[] {
  const parts = rawPath.split('/').slice(1);
  return parts.map((part) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      throw new TskError('invalid_request', 'the request path is not valid percent-encoding');
    }
    if (/[/\\]/.test(decoded) || /%[0-9a-f]{2}/i.test(decoded)) {
      throw new TskError('invalid_request', 'encoded path separators are not allowed');
    }
    return decoded;
  });
}

/** Finds the route for a path, or undefined. */
export function matchRoute(
  routes: readonly Route[],
  segments: readonly string[],
): Match | undefined {
  for (const route of routes) {
    const pattern = route.pattern.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((p, i) => {
      const seg = segments[i] ?? '';
      if (p.startsWith(':')) {
        params[p.slice(1)] = seg;
        return seg.length > 0;
      }
      return p === seg;
    });
    if (ok) return { route, params };
  }
  return undefined;
}
