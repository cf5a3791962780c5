// What every admin mutation accepts in its query besides its body: `?dry_run=true` (check every
// precondition and answer what the change would do, writing nothing) and `?wait=propagation`
// (after the commit, answer only once the edge serves the committed keyring version, or after a
// bound). Both answers are built here, so every mutation route says the same thing the same way.
import { TskError } from '../core/errors.js';
import { resolveDeployment } from '../core/deployments.js';
import {
  keyringDiff,
  plannedWrites,
  RECENT_SIGNATURE_GRACE_MS,
  warnings,
} from '../core/keyring/dry-run.js';
import { readEdgeKeyring } from '../core/keyring/edge-view.js';
import type { MutationResult } from '../core/keyring/engine.js';
import { keyDocumentBody } from '../core/keyring/key-documents.js';
import { schedulePolicy } from '../core/schedule/policy.js';
import type { RequestContext } from './context.js';
import type { Services } from './services.js';

/** The query options of one mutation. */
export interface MutationOptions {
  dryRun: boolean;
  /** Set by `?wait=propagation`: how long to wait at most. */
  wait?: { timeoutMs: number };
}

/** Parses `dry_run`, `wait` and `wait_timeout_ms`; a value it does not know is a 400. */
export function mutationOptions(ctx: RequestContext): MutationOptions {
  const query = ctx.url.searchParams;
  const one = (name: string): string | undefined => {
    const values = query.getAll(name);
    if (values.length > 1) throw invalid(`give ${name} once`);
    return values[0];
  };
  const dry = one('dry_run');
  if (dry !== undefined && dry !== 'true' && dry !== 'false') {
    throw invalid(`dry_run must be true or false, not "${dry.slice(0, 32)}"`);
  }
  const dryRun = dry === 'true';
  const wait = one('wait');
  const timeout = one('wait_timeout_ms');
  if (wait !== undefined && wait !== 'propagation') {
    throw invalid(`wait must be "propagation", not "${wait.slice(0, 32)}"`);
  }
  if (timeout !== undefined && wait === undefined) {
    throw invalid('wait_timeout_ms needs wait=propagation');
  }
  if (wait === undefined) return { dryRun };
  if (dryRun) {
    throw invalid(
      'a dry run commits nothing, so there is nothing to wait for; drop wait or dry_run',
    );
  }
  const bound = ctx.services.settings.propagation.wait_timeout_ms;
  let timeoutMs = bound;
  if (timeout !== undefined) {
    if (!/^\d{1,7}$/.test(timeout) || Number(timeout) > bound) {
      throw invalid(
        `wait_timeout_ms must be a whole number of milliseconds from 0 to ${bound} (propagation.wait_timeout_ms)`,
      );
    }
    timeoutMs = Number(timeout);
  }
  return { dryRun, wait: { timeoutMs } };
}

/**
 * What a dry run answers beside the route's own members: the keyring and the JWKS as they would
 * be, the difference, the warnings and the writes the real call would make.
 */
export function dryRunMembers(
  result: MutationResult,
  services: Pick<Services, 'clock' | 'settings'>,
): Record<string, unknown> {
  const created = result.plan?.createSecret;
  return {
    dry_run: true,
    keyring: result.after,
    jwks: JSON.parse(keyDocumentBody('jwks', result.after)) as unknown,
    diff: keyringDiff(result.before, result.after),
    warnings: warnings(result.before, result.after, {
      operation: result.operation,
      nowMs: services.clock.now(),
      graceMs: RECENT_SIGNATURE_GRACE_MS,
      dwellMs: schedulePolicy(
        services.settings,
        resolveDeployment(services.settings, result.after.deployment),
      ).dwellMs,
    }),
    planned_writes: result.plan ? plannedWrites(result.plan) : [],
    ...(created !== undefined
      ? {
          notes: [
            `the JWK of ${created} was generated for this preview only; the real call generates its own key (the same kid unless another change takes it first)`,
          ],
        }
      : {}),
  };
}

/** What `?wait=propagation` found. */
export interface Propagation {
  propagated: boolean;
  /** The keyring version the change committed. */
  keyring_version: number;
  /** The version the edge served at the last read; null when it has no keyring item. */
  edge_keyring_version: number | null;
  waited_ms: number;
  timeout_ms: number;
  /** Why the edge could not be read, when it could not. */
  error?: string;
}

/**
 * Polls the deployment's edge Config Store (what the hot path reads, through `Services`) until it
 * serves `version` or newer, for at most `timeoutMs`. On Fastly this is the view of the POP that
 * runs the request; other POPs converge on their own schedule.
 */
export async function waitForPropagation(
  services: Pick<Services, 'configStore' | 'settings'>,
  deployment: string,
  version: number,
  timeoutMs: number,
): Promise<Propagation> {
  const store = services.configStore(
    resolveDeployment(services.settings, deployment).configStoreName,
  );
  const pollMs = services.settings.propagation.poll_interval_ms;
  // Real elapsed time, not the injected clock: this waits for the world, not for the domain.
  const started = Date.now();
  let seen: number | null = null;
  for (;;) {
    try {
      seen = (await readEdgeKeyring(store)).version;
    } catch (err) {
      const waited = Date.now() - started;
      const error = err instanceof TskError ? err.message : 'the edge store could not be read';
      if (waited >= timeoutMs) return answer(false, waited, error);
    }
    const waited = Date.now() - started;
    if (seen !== null && seen >= version) return answer(true, waited);
    if (waited >= timeoutMs) return answer(false, waited);
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, timeoutMs - waited)));
  }

  function answer(propagated: boolean, waited: number, error?: string): Propagation {
    return {
      propagated,
      keyring_version: version,
      edge_keyring_version: seen,
      waited_ms: waited,
      timeout_ms: timeoutMs,
      ...(error !== undefined ? { error } : {}),
    };
  }
}

/** After a committed change: `{propagation}` when the request asked to wait, else nothing. */
export async function propagationMembers(
  ctx: RequestContext,
  options: MutationOptions,
  deployment: string,
  result: MutationResult,
): Promise<Record<string, unknown>> {
  if (!options.wait) return {};
  return {
    propagation: await waitForPropagation(
      ctx.services,
      deployment,
      result.after.version,
      options.wait.timeoutMs,
    ),
  };
}

function invalid(message: string): TskError {
  return new TskError('invalid_request', message);
}
