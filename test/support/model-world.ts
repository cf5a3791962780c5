// A model of the Fastly stores as the management API exposes them, for crash-and-fault runs: the
// config items, the secrets and the lock KV of one deployment, a virtual clock, and writes in
// flight. Each "process" (one request of the service) talks to the world through its own view,
// which can be told to fail any call in any of the ways a real call can: refused (4xx), timed out
// with the write landing later (or never), answered but lost, or the process killed before,
// during or after a call. A late write lands when the harness says, but never after the
// late-write bound from when it was sent.
import { TskError } from '../../src/core/errors.js';
import type {
  ConfigItemOp,
  KeyStoreApi,
  LeaseStoreApi,
  VersionedValue,
} from '../../src/core/ports.js';

/** Every call a process makes to the management API. */
export type CallName =
  | 'readConfigItems'
  | 'patchConfigItems'
  | 'createSecret'
  | 'deleteSecret'
  | 'listSecretNames'
  | 'kvGet'
  | 'kvAdd'
  | 'kvReplace'
  | 'kvRemove';

/** What happens to one call. */
export type FaultKind =
  /** The API refuses it (a 4xx): nothing applied, ever. */
  | 'refused'
  /** Timed out; the write lands later (within the bound) or never, as the harness decides. */
  | 'late'
  /** Applied, but the answer is lost (a timeout or a 5xx after the work was done). */
  | 'lost'
  /** A bulk update applied in part, then a 5xx. */
  | 'partial'
  /** The process dies before sending the call. */
  | 'kill-before'
  /** The process dies with the call in flight: it lands later, or never. */
  | 'kill-inflight'
  /** The call is applied, then the process dies before reading the answer. */
  | 'kill-after';

/** The per-call timeout the model's processes run with. */
export const CALL_TIMEOUT_MS = 15_000;

/** Thrown inside a killed process; nothing it does afterwards reaches the world. */
export class Killed extends Error {
  override readonly name = 'Killed';
}

interface InFlight {
  label: string;
  sentAt: number;
  /** `trustedServerWriteCount` when it was sent: a higher count on landing means it raced one. */
  trustedServerWritesBefore: number;
  apply: () => void;
}

/** The shared state. Everything is open for the harness's checks. */
export class ModelWorld {
  readonly items = new Map<string, string>();
  readonly secrets = new Map<string, string>();
  readonly kv = new Map<string, VersionedValue>();
  readonly inFlight: InFlight[] = [];
  now: number;
  private generation = 9_007_199_254_740_993n;
  /** Counters for the report. */
  readonly stats = { calls: 0, faults: 0, kills: 0, lateLanded: 0, lateDropped: 0 };
  /** Trusted Server's writes so far (the harness counts them as it makes them). */
  trustedServerWriteCount = 0;
  /**
   * Set when a late write of ours lands after a Trusted Server write made since it was sent: the
   * one race no compare-and-set can refuse (docs/architecture.md, "Drift"). Cleared by the
   * harness once a change of ours commits, which must have mended it.
   */
  lateWriteOverTrustedServer = false;
  /** The signing kids seen left out of `active-kids` by that race (reported in the totals). */
  readonly racesSeen = new Set<string>();

  constructor(
    startIso: string,
    readonly lateWriteBoundMs: number,
  ) {
    this.now = Date.parse(startIso);
  }

  /** A clock that reads the world's time. */
  get clock(): { now(): number } {
    return { now: () => this.now };
  }

  /**
   * Moves time forward by `ms`. Writes in flight whose bound would pass are landed or dropped
   * first (as `land` says), each at a moment no later than its bound.
   */
  advance(ms: number, land: (label: string) => boolean): void {
    const target = this.now + ms;
    for (;;) {
      const due = this.inFlight
        .filter((w) => w.sentAt + this.lateWriteBoundMs <= target)
        .sort((a, b) => a.sentAt - b.sentAt)[0];
      if (!due) break;
      this.settleInFlight(due, land(due.label));
    }
    this.now = target;
  }

  /** Lands or drops in-flight writes now, at the harness's choice (those it picks). */
  shuffleInFlight(pick: (label: string) => 'land' | 'drop' | 'keep'): void {
    for (const w of [...this.inFlight]) {
      const choice = pick(w.label);
      if (choice !== 'keep') this.settleInFlight(w, choice === 'land');
    }
  }

  /** Lands or drops every write still in flight. */
  flush(land: (label: string) => boolean): void {
    for (const w of [...this.inFlight]) this.settleInFlight(w, land(w.label));
  }

  private settleInFlight(w: InFlight, land: boolean): void {
    const at = this.inFlight.indexOf(w);
    if (at >= 0) this.inFlight.splice(at, 1);
    if (land) {
      w.apply();
      this.stats.lateLanded++;
      if (this.trustedServerWriteCount > w.trustedServerWritesBefore) {
        this.lateWriteOverTrustedServer = true;
      }
    } else {
      this.stats.lateDropped++;
    }
  }

  /** A new process (one request of the service) with its fault plan. */
  process(plan: (call: CallName, index: number) => FaultKind | undefined): ProcessView {
    return new ProcessView(this, plan);
  }

  // The API's semantics, applied when a write lands.
  applyPatch(ops: readonly ConfigItemOp[], count = ops.length): void {
    for (const op of ops.slice(0, count)) {
      if (op.op === 'delete') this.items.delete(op.key);
      else this.items.set(op.key, op.value);
    }
  }

  applyCreateSecret(name: string, value: string): boolean {
    if (this.secrets.has(name)) return false;
    this.secrets.set(name, value);
    return true;
  }

  applyKvAdd(key: string, value: string): boolean {
    if (this.kv.has(key)) return false;
    this.kvWrite(key, value);
    return true;
  }

  applyKvReplace(key: string, value: string, generation: string): boolean {
    if (this.kv.get(key)?.generation !== generation) return false;
    this.kvWrite(key, value);
    return true;
  }

  applyKvRemove(key: string, generation: string): boolean {
    if (this.kv.get(key)?.generation !== generation) return false;
    return this.kv.delete(key);
  }

  private kvWrite(key: string, value: string): void {
    this.generation += 1n;
    this.kv.set(key, { value, generation: this.generation.toString() });
  }
}

/** One process's view of the world: the management API as the service sees it. */
export class ProcessView implements KeyStoreApi, LeaseStoreApi {
  private killed = false;
  private index = 0;

  constructor(
    private readonly world: ModelWorld,
    private readonly plan: (call: CallName, index: number) => FaultKind | undefined,
  ) {}

  get dead(): boolean {
    return this.killed;
  }

  async readConfigItems(): Promise<Map<string, string>> {
    return this.read('readConfigItems', () => new Map(this.world.items));
  }

  async listSecretNames(): Promise<string[]> {
    return this.read('listSecretNames', () => [...this.world.secrets.keys()]);
  }

  async get(key: string): Promise<VersionedValue | null> {
    return this.read('kvGet', () => {
      const entry = this.world.kv.get(key);
      return entry ? { ...entry } : null;
    });
  }

  async patchConfigItems(ops: readonly ConfigItemOp[]): Promise<void> {
    const copy = ops.map((op) => ({ ...op }));
    await this.write(
      'patchConfigItems',
      () => this.world.applyPatch(copy),
      () => undefined,
      (n) => this.world.applyPatch(copy, n),
      copy.length,
    );
  }

  async createSecret(name: string, value: string): Promise<void> {
    await this.write(
      'createSecret',
      () => this.world.applyCreateSecret(name, value),
      (created) => {
        if (!created) throw new TskError('secret_exists', `secret ${name} exists`);
      },
    );
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.write(
      'deleteSecret',
      () => this.world.secrets.delete(name),
      (had) => had,
    );
  }

  async add(key: string, value: string): Promise<boolean> {
    return this.write(
      'kvAdd',
      () => this.world.applyKvAdd(key, value),
      (ok) => ok,
    );
  }

  async replace(key: string, value: string, generation: string): Promise<boolean> {
    return this.write(
      'kvReplace',
      () => this.world.applyKvReplace(key, value, generation),
      (ok) => ok,
    );
  }

  async remove(key: string, generation: string): Promise<boolean> {
    return this.write(
      'kvRemove',
      () => this.world.applyKvRemove(key, generation),
      (ok) => ok,
    );
  }

  private enter(call: CallName): FaultKind | undefined {
    if (this.killed) throw new Killed(`process already dead (${call})`);
    this.world.stats.calls++;
    const fault = this.plan(call, this.index++);
    if (fault) this.world.stats.faults++;
    // Each call takes a little time, as a real one does; a timed-out one, the whole timeout.
    this.world.now += fault === 'late' || fault === 'lost' ? CALL_TIMEOUT_MS : 50;
    return fault;
  }

  private die(call: CallName): never {
    this.killed = true;
    this.world.stats.kills++;
    throw new Killed(`killed at ${call}`);
  }

  private async read<T>(call: CallName, run: () => T): Promise<T> {
    const fault = this.enter(call);
    if (fault === 'kill-before' || fault === 'kill-inflight' || fault === 'kill-after') {
      this.die(call);
    }
    if (fault === 'refused') throw refused(call);
    if (fault === 'late' || fault === 'lost' || fault === 'partial') throw timeout(call);
    return run();
  }

  private async write<A, T>(
    call: CallName,
    apply: () => A,
    answer: (applied: A) => T,
    applyPart?: (n: number) => void,
    size = 1,
  ): Promise<T> {
    const fault = this.enter(call);
    switch (fault) {
      case undefined:
        return answer(apply());
      case 'refused':
        throw refused(call);
      case 'late':
        this.world.inFlight.push({
          label: call,
          sentAt: this.world.now,
          trustedServerWritesBefore: this.world.trustedServerWriteCount,
          apply: () => void apply(),
        });
        throw timeout(call);
      case 'lost':
        apply();
        throw timeout(call);
      case 'partial':
        if (applyPart) applyPart(Math.floor(size / 2));
        else apply();
        throw new TskError('upstream_failed', `injected 503 after part of ${call}`, {
          details: { status: 503 },
        });
      case 'kill-before':
        return this.die(call);
      case 'kill-inflight':
        this.world.inFlight.push({
          label: call,
          sentAt: this.world.now,
          trustedServerWritesBefore: this.world.trustedServerWriteCount,
          apply: () => void apply(),
        });
        return this.die(call);
      case 'kill-after':
        apply();
        return this.die(call);
    }
  }
}

function refused(call: CallName): TskError {
  return new TskError('upstream_failed', `injected 400 for ${call}`, {
    details: { status: 400, outcome: 'refused' },
  });
}

function timeout(call: CallName): TskError {
  return new TskError('upstream_timeout', `injected timeout of ${call}`, {
    details: { outcome: 'unknown' },
  });
}
