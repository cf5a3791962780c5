// Fault injection for tests and drills. A fault makes the next matching authenticated requests
// wait and/or fail: `mode: 'before'` (the default) fails before handling, so nothing changes, like
// a Fastly 5xx or 429 that rejected the request; `mode: 'after'` handles the request and then
// fails, so the write landed although the answer says it did not; `drop` closes the connection
// with no answer at all; `delayMs` alone delays then handles (a write that lands late, after the
// client gave up). Faults are armed in-process (`injectFault`), from the `TSK_FAULTS` environment
// variable at start, or over HTTP at `/__local/faults` (see parseFaultSpecs for the JSON form).
import { badRequest } from './errors.js';
import type { FaultSpec } from './types.js';

/** What an armed fault does to one request. */
export interface FaultAction {
  delayMs: number;
  /** Whether the request is handled before the failure (`after`) or not at all (`before`). */
  mode: 'before' | 'after';
  /** Close the connection without answering. */
  drop: boolean;
  /** Absent (and not `drop`): handle the request normally after the delay. */
  failure?: { status: number; body: string };
}

interface ArmedFault {
  spec: FaultSpec;
  remaining: number;
}

/** Longest delay a fault may ask for: 10 minutes, past any client's bound. */
export const MAX_FAULT_DELAY_MS = 600_000;

/** Throws a RangeError naming the field when the spec is not a fault that can happen. */
function checkSpec(spec: FaultSpec): void {
  const times = spec.times ?? 1;
  if (!(times > 0) || (Number.isFinite(times) && !Number.isInteger(times))) {
    throw new RangeError('injectFault: times must be a positive integer or Infinity');
  }
  if (
    spec.status !== undefined &&
    (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)
  ) {
    throw new RangeError('injectFault: status must be an HTTP status code');
  }
  const delay = spec.delayMs ?? 0;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_FAULT_DELAY_MS) {
    throw new RangeError(`injectFault: delayMs must be an integer from 0 to ${MAX_FAULT_DELAY_MS}`);
  }
  if (spec.mode !== undefined && spec.mode !== 'before' && spec.mode !== 'after') {
    throw new RangeError('injectFault: mode must be "before" or "after"');
  }
  if (spec.drop === true && spec.status !== undefined) {
    throw new RangeError(
      'injectFault: drop and status exclude each other (a dropped request has no status)',
    );
  }
  if (spec.mode === 'after' && spec.status === undefined && spec.drop !== true) {
    throw new RangeError('injectFault: mode "after" needs a status or drop: true');
  }
}

/** The armed faults, consumed in the order they were injected. */
export class FaultRegistry {
  readonly #faults: ArmedFault[] = [];

  /** Arms a fault; returns a function that disarms it (harmless once it has run out). */
  add(spec: FaultSpec): () => void {
    checkSpec(spec);
    const fault: ArmedFault = { spec, remaining: spec.times ?? 1 };
    this.#faults.push(fault);
    return () => {
      const at = this.#faults.indexOf(fault);
      if (at >= 0) this.#faults.splice(at, 1);
    };
  }

  /** Disarms every fault. */
  clear(): void {
    this.#faults.length = 0;
  }

  /** The armed faults in their JSON form, with the uses left. */
  list(): Array<Record<string, unknown>> {
    return this.#faults.map(({ spec, remaining }) => ({
      ...(spec.method === undefined ? {} : { method: spec.method.toUpperCase() }),
      path: spec.path.source,
      ...(spec.status === undefined ? {} : { status: spec.status }),
      mode: spec.mode ?? 'before',
      drop: spec.drop === true,
      delayMs: spec.delayMs ?? 0,
      times: Number.isFinite(remaining) ? remaining : 'always',
      ...(spec.body === undefined ? {} : { body: spec.body }),
    }));
  }

  /** Consumes one use of the first fault matching the request, if any. */
  take(method: string, path: string): FaultAction | undefined {
    const at = this.#faults.findIndex((f) => matches(f.spec, method, path));
    const fault = this.#faults[at];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults.splice(at, 1);
    const { status, delayMs = 0, body, mode = 'before', drop = false } = fault.spec;
    if (status === undefined) return { delayMs, mode, drop };
    const msg = `Injected fault: ${status} for ${method} ${path}`;
    return { delayMs, mode, drop, failure: { status, body: body ?? JSON.stringify({ msg }) } };
  }
}

function matches(spec: FaultSpec, method: string, path: string): boolean {
  if (spec.method !== undefined && spec.method.toUpperCase() !== method) return false;
  // A /g or /y regex keeps lastIndex between calls; start every match from the beginning.
  spec.path.lastIndex = 0;
  return spec.path.test(path);
}

const SPEC_FIELDS = new Set([
  'method',
  'path',
  'status',
  'times',
  'delayMs',
  'body',
  'mode',
  'drop',
]);

/**
 * Fault specs from JSON (the `TSK_FAULTS` variable, the control route's body): one object or an
 * array of them, with `path` a regular expression's source text and `times` a positive integer
 * or `"always"`. Anything else is an error (a 400 ApiError) naming the field.
 */
export function parseFaultSpecs(value: unknown): FaultSpec[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((raw, i) => {
    const where = Array.isArray(value) ? `[${i}].` : '';
    const bad = (field: string, why: string) =>
      badRequest(`Invalid fault: ${where}${field} ${why}`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw badRequest(
        `Invalid fault: ${where ? where.slice(0, -1) : 'the fault'} must be an object`,
      );
    }
    const o = raw as Record<string, unknown>;
    for (const key of Object.keys(o))
      if (!SPEC_FIELDS.has(key)) throw bad(key, 'is not a fault field');
    if (typeof o['path'] !== 'string')
      throw bad('path', 'must be a regular expression as a string');
    let path: RegExp;
    try {
      path = new RegExp(o['path']);
    } catch {
      throw bad('path', 'is not a valid regular expression');
    }
    const spec: FaultSpec = { path };
    const { method, status, times, delayMs, body, mode, drop } = o;
    if (method !== undefined) {
      if (typeof method !== 'string' || !/^[A-Za-z]{1,16}$/.test(method))
        throw bad('method', 'must be an HTTP method');
      spec.method = method;
    }
    if (status !== undefined) {
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
        throw bad('status', 'must be an HTTP status code (100-599)');
      }
      spec.status = status;
    }
    if (times !== undefined) {
      if (times === 'always') spec.times = Infinity;
      else if (typeof times === 'number' && Number.isInteger(times) && times > 0)
        spec.times = times;
      else throw bad('times', 'must be a positive integer or "always"');
    }
    if (delayMs !== undefined) {
      if (
        typeof delayMs !== 'number' ||
        !Number.isInteger(delayMs) ||
        delayMs < 0 ||
        delayMs > MAX_FAULT_DELAY_MS
      ) {
        throw bad('delayMs', `must be an integer from 0 to ${MAX_FAULT_DELAY_MS}`);
      }
      spec.delayMs = delayMs;
    }
    if (body !== undefined) {
      if (typeof body !== 'string') throw bad('body', 'must be a string');
      spec.body = body;
    }
    if (mode !== undefined) {
      if (mode !== 'before' && mode !== 'after') throw bad('mode', 'must be "before" or "after"');
      spec.mode = mode;
    }
    if (drop !== undefined) {
      if (typeof drop !== 'boolean') throw bad('drop', 'must be true or false');
      spec.drop = drop;
    }
    try {
      checkSpec(spec);
    } catch (err) {
      throw badRequest(
        `Invalid fault: ${where}${(err as Error).message.replace('injectFault: ', '')}`,
      );
    }
    return spec;
  });
}

/** The faults in `TSK_FAULTS` (a JSON array of specs); an Error naming the variable if invalid. */
export function faultsFromEnv(text: string | undefined): FaultSpec[] {
  if (text === undefined || text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`TSK_FAULTS is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Error('TSK_FAULTS must be a JSON array of fault specs');
  try {
    return parseFaultSpecs(value);
  } catch (err) {
    throw new Error(`TSK_FAULTS: ${(err as Error).message}`);
  }
}
