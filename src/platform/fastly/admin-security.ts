// Fastly's Edge Rate Limiter and a named log endpoint behind the app's RateLimiter and AuditSink.
// Opened per request (never at module top level, which runs at build time under Wizer).
import { PenaltyBox, RateCounter } from 'fastly:edge-rate-limiter';
import { Logger as LogEndpoint } from 'fastly:logger';
import type { AuditSink, RateLimiter } from '../../core/ports.js';
import type { Logger } from '../../http/services.js';

const COUNTERS = {
  admin_requests: 'tsk_admin_requests',
  auth_failures: 'tsk_auth_failures',
  // Its own counter: public verification traffic must never eat into the admin budget.
  verify_requests: 'tsk_verify_requests',
} as const;
const PENALTY_BOX = 'tsk_admin_penalty';

/**
 * The RateLimiter on Fastly. `has` cannot say how long is left, so the full box time is given.
 * Whether the Edge Rate Limiter throws on a service without it enabled is not documented; if it
 * does, admin requests still work (authentication is the control) and every one logs
 * `rate_limiter_unavailable`, so the gap is visible rather than a wall of 500s.
 */
export function edgeRateLimiter(penaltyMinutes: number, logger: Logger): RateLimiter {
  const guarded = <T>(what: string, fallback: T, run: () => T): T => {
    try {
      return run();
    } catch (err) {
      logger.log('warn', 'rate_limiter_unavailable', {
        operation: what,
        error: err instanceof Error ? err.name : 'unknown',
      });
      return fallback;
    }
  };
  return {
    async increment(counter, key) {
      return guarded('increment', 0, () => {
        const rc = new RateCounter(COUNTERS[counter]);
        rc.increment(key, 1);
        return rc.lookupCount(key, 60);
      });
    },
    async penaltySeconds(key) {
      return guarded('penalty_lookup', 0, () =>
        new PenaltyBox(PENALTY_BOX).has(key) ? penaltyMinutes * 60 : 0,
      );
    },
    async penalize(key, minutes) {
      guarded('penalize', undefined, () =>
        new PenaltyBox(PENALTY_BOX).add(key, Math.min(60, Math.max(1, Math.round(minutes)))),
      );
    },
  };
}

/**
 * The audit trail on Fastly: one JSON line per admin request to the named log endpoint. If the
 * endpoint is not configured the line goes to stdout (log tailing) marked as such, never lost.
 */
export function logEndpointAuditSink(endpoint: string): AuditSink {
  return {
    async write(record) {
      const line = JSON.stringify({ audit: true, ...record });
      try {
        new LogEndpoint(endpoint).log(line);
      } catch {
        console.log(JSON.stringify({ audit: true, audit_endpoint_missing: endpoint, ...record }));
      }
    },
  };
}
