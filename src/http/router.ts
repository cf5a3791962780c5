// A small, strict router: exact, case-sensitive segments; `:name` captures one segment. It sees
// only canonical paths (canonical-path.ts refuses the rest first), so no other spelling of a
// path can reach a handler.
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

/**
 * Splits a canonical path (see canonical-path.ts, checked before routing) into decoded segments.
 * Canonical means the decoding is plain UTF-8 and no segment can decode to a separator; a path
 * that is not is refused here too rather than routed.
 */
export function pathSegments(canonicalPath: string): string[] {
  return canonicalPath
    .split('/')
    .slice(1)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new TskError('non_canonical_path', 'the request path is not valid percent-encoding');
      }
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
