// A hand-written in-memory KeyStoreApi with fault injection: any call can be made to fail before
// it applies, after it applies (the answer is lost), or halfway (a bulk update applied in part).
import { TskError } from '../../src/core/errors.js';
import type { ConfigItemOp, KeyStoreApi } from '../../src/core/ports.js';

/** The calls a fault can target. */
export type Call =
  'readConfigItems' | 'patchConfigItems' | 'createSecret' | 'deleteSecret' | 'listSecretNames';

/** One planned failure. */
export interface Fault {
  call: Call;
  /** Which call of that kind fails, 1-based; default the next one. */
  nth?: number;
  /**
   * `before`: refused (a 4xx), nothing applies; `after`: it applies, then the answer is lost (a
   * timeout); `partial`: a bulk applies its first `applied` ops, then a 5xx.
   */
  mode?: 'before' | 'after' | 'partial';
  applied?: number;
  code?: 'upstream_failed' | 'upstream_timeout';
}

/** The fake. `items` and `secrets` are its whole state, open for assertions. */
export class FakeKeyStore implements KeyStoreApi {
  /** Pass maps to share them (e.g. with an in-memory edge store); by default new ones. */
  constructor(
    readonly items = new Map<string, string>(),
    readonly secrets = new Map<string, string>(),
  ) {}
  readonly calls: Call[] = [];
  /** Sizes of the bulk updates received, in order. */
  readonly patchSizes: number[] = [];
  private readonly faults: Fault[] = [];
  private readonly counts = new Map<Call, number>();

  /** Plans a failure. */
  fail(fault: Fault): this {
    this.faults.push(fault);
    return this;
  }

  async readConfigItems(): Promise<Map<string, string>> {
    this.enter('readConfigItems', 'before');
    return new Map(this.items);
  }

  async patchConfigItems(ops: readonly ConfigItemOp[]): Promise<void> {
    const fault = this.enter('patchConfigItems');
    this.patchSizes.push(ops.length);
    const count = fault?.mode === 'partial' ? (fault.applied ?? 0) : ops.length;
    for (const op of ops.slice(0, count)) {
      if (op.op === 'delete') this.items.delete(op.key);
      else this.items.set(op.key, op.value);
    }
    if (fault) throw failure(fault);
  }

  async createSecret(name: string, value: string): Promise<void> {
    const fault = this.enter('createSecret');
    if (this.secrets.has(name)) throw new TskError('secret_exists', `secret ${name} exists`);
    this.secrets.set(name, value);
    if (fault) throw failure(fault);
  }

  async deleteSecret(name: string): Promise<boolean> {
    const fault = this.enter('deleteSecret');
    const had = this.secrets.delete(name);
    if (fault) throw failure(fault);
    return had;
  }

  async listSecretNames(): Promise<string[]> {
    this.enter('listSecretNames', 'before');
    return [...this.secrets.keys()];
  }

  /** Records the call; throws now for a `before` fault, returns an `after`/`partial` fault for later. */
  private enter(call: Call, only?: 'before'): Fault | undefined {
    this.calls.push(call);
    const n = (this.counts.get(call) ?? 0) + 1;
    this.counts.set(call, n);
    const index = this.faults.findIndex((f) => f.call === call && (f.nth ?? n) === n);
    if (index < 0) return undefined;
    const [fault] = this.faults.splice(index, 1);
    if (!fault) return undefined;
    if ((fault.mode ?? 'before') === 'before' || only) {
      if (fault.mode === 'partial' && !only) return { ...fault };
      throw failure(fault);
    }
    return fault;
  }
}

function failure(fault: Fault): TskError {
  const mode = fault.mode ?? 'before';
  // A refusal is a definite 4xx; the others leave the outcome unknown to the caller.
  const details =
    mode === 'before'
      ? { status: 400, outcome: 'refused' }
      : mode === 'after'
        ? {}
        : { status: 503 };
  const code = fault.code ?? (mode === 'after' ? 'upstream_timeout' : 'upstream_failed');
  return new TskError(code, `injected ${mode} failure of ${fault.call}`, { details });
}

/** A deterministic Random: bytes from a counter, so kids and keys are reproducible. */
export function counterRandom(start = 1): { bytes(n: number): Uint8Array } {
  let next = start;
  return {
    bytes(n: number): Uint8Array {
      return Uint8Array.from({ length: n }, () => next++ & 0xff);
    },
  };
}

/** A clock tests move by hand. */
export function manualClock(iso = '2026-11-22T09:00:00.000Z'): {
  now(): number;
  advance(ms: number): void;
  set(iso: string): void;
} {
  let t = Date.parse(iso);
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (value) => {
      t = Date.parse(value);
    },
  };
}
