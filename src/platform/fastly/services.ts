// The `Services` one request runs with on Fastly. Built per request: clock, randomness and stores
// are only usable while a request is being handled, not while Wizer snapshots the module.
import type { Settings } from '../../core/settings.js';
import { fastlyDeployments } from '../../fastly-api/index.js';
import type { LogFields, Logger, Services } from '../../http/services.js';
import { configStore, secretStore } from './stores.js';
import { edgeRateLimiter, logEndpointAuditSink } from './admin-security.js';

/** Fastly's `fetch` takes the named backend in its init; the DOM typing has no such option. */
type BackendFetch = (request: Request, init: { backend: string }) => Promise<Response>;

/** One JSON line per call on stdout, which `fastly log-tail` streams. */
function stdoutLogger(now: () => number): Logger {
  return {
    log(level, event, fields) {
      const line: LogFields = { time: new Date(now()).toISOString(), level, event };
      for (const [k, v] of Object.entries(fields ?? {})) if (!(k in line)) line[k] = v;
      let text: string;
      try {
        text = JSON.stringify(line);
      } catch {
        // A field that cannot be serialised (a cycle, a bigint) must not turn a log into a failure.
        text = JSON.stringify({ time: line['time'], level, event, log_error: 'unserialisable' });
      }
      console.log(text);
    },
  };
}

/** Sends a management-API request through the Compute backend `fastly_api.backend` names. */
export function managementFetch(settings: Settings): (request: Request) => Promise<Response> {
  const backend = settings.fastly_api.backend;
  return (request) => (fetch as BackendFetch)(request, { backend });
}

/** The services for one request. */
export function fastlyServices(settings: Settings): Services {
  const clock = { now: () => Date.now() };
  const random = { bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)) };
  const logger = stdoutLogger(clock.now);
  const edge = { settings, clock, random, configStore, secretStore };
  return {
    ...edge,
    deployments: fastlyDeployments({ ...edge, fetch: managementFetch(settings) }),
    logger,
    rateLimiter: edgeRateLimiter(settings.admin.penalty_minutes, logger),
    audit: logEndpointAuditSink(settings.admin.audit_log_endpoint),
  };
}
