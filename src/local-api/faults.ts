// Fault injection for tests: the next matching requests wait and/or fail before they are handled,
// so a failed write never changes state (like a Fastly 5xx or 429 that rejected the request).
import type { FaultSpec } from './types.js';

/** What an armed fault does to one request. */
export interface FaultAction {
  delayMs: number;
  /** Absent: handle the request normally after the delay. */
  failure?: { status: number; body: string };
}

interface ArmedFault {
  spec: FaultSpec;
  remaining: number;
}

/** The armed faults, consumed in the order they were injected. */
export class FaultRegistry {
  readonly #faults: ArmedFault[] = [];

  /** Arms a fault; returns a function that disarms it (harmless once it has run out). */
  add(spec: FaultSpec): () => void {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new RangeError('injectFault: times must be positive');
    if (spec.status !== undefined && (spec.status < 100 || spec.status > 599)) {
      throw new RangeError('injectFault: status must be an HTTP status code');
    }
    const fault: ArmedFault = { spec, remaining: times };
    this.#faults.push(fault);
    return () => {
      const at = this.#faults.indexOf(fault);
      if (at >= 0) this.#faults.splice(at, 1);
    };
  }

  /** Consumes one use of the first fault matching the request, if any. */
  take(method: string, path: string): FaultAction | undefined {
    const at = this.#faults.findIndex((f) => matches(f.spec, method, path));
    const fault = this.#faults[at];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults.splice(at, 1);
    const { status, delayMs = 0, body } = fault.spec;
    if (status === undefined) return { delayMs };
    const msg = `Injected fault: ${status} for ${method} ${path}`;
    return { delayMs, failure: { status, body: body ?? JSON.stringify({ msg }) } };
  }
}

function matches(spec: FaultSpec, method: string, path: string): boolean {
  if (spec.method !== undefined && spec.method.toUpperCase() !== method) return false;
  // A /g or /y regex keeps lastIndex between calls; start every match from the beginning.
  spec.path.lastIndex = 0;
  return spec.path.test(path);
}
