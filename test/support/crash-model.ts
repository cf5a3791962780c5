// The crash-and-fault run: random sequences of lifecycle operations, each in its own "process"
// with faults injected at any management call (refused, timed out with the write landing later or
// never, answer lost, bulk applied in part) and process kills at random points, against the model
// world. After every step it checks the stores' invariants; at the end it lets every late write
// land or die, repairs, and checks that the stores are whole again. Used by the bounded run in
// `npm test` and by the long one in `npm run test:soak`.
import fc from 'fast-check';
import { expect } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import { parseActiveKids } from '../../src/core/keys/active-kids.js';
import {
  isRetired,
  parseKeyring,
  PUBLISHED_STATES,
  serializeKeyring,
} from '../../src/core/keyring/document.js';
import { KeyringEngine, type MutationRequest } from '../../src/core/keyring/engine.js';
import { parseLockRecord, type Intent } from '../../src/core/keyring/journal.js';
import { KvLease } from '../../src/core/keyring/lease.js';
import { derivedItems } from '../../src/core/keyring/store-items.js';
import {
  endorsedKeys,
  isKeyLog,
  keyLogProblem,
  parseKeyLog,
} from '../../src/core/keyring/key-log.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import type { Random } from '../../src/core/ports.js';
import {
  CALL_TIMEOUT_MS,
  Killed,
  ModelWorld,
  type CallName,
  type FaultKind,
} from './model-world.js';

const DEV_JWK =
  '{"kty":"OKP","crv":"Ed25519","x":"UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw","alg":"EdDSA","kid":"ts-2025-10-A"}';
const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';
const DEPLOYMENT = 'default';
const LEASE_MS = 120_000;
const LATE_MS = 120_000;

const FAULTS: readonly FaultKind[] = [
  'refused',
  'late',
  'lost',
  'partial',
  'kill-before',
  'kill-inflight',
  'kill-after',
];
const OPERATIONS = [
  'rotate',
  'prepare',
  'activate',
  'taint',
  'deactivate',
  'restore',
  'remove',
  'repair',
  // Trusted Server's own tools writing the same stores between (and around) this service's
  // operations, with its exact order of writes: secret, JWK, active-kids, current-kid.
  'ts-rotate',
  'ts-deactivate',
] as const;

/** One step of a run. */
export interface Step {
  op: (typeof OPERATIONS)[number];
  pick: number;
  faults: Array<FaultKind | null>;
  advanceMs: number;
  inFlight: Array<'land' | 'drop' | 'keep'>;
}

/** Totals over all runs, for the report. */
export interface ModelTotals {
  runs: number;
  operations: number;
  committed: number;
  refusedOrFailed: number;
  unknown: number;
  calls: number;
  faults: number;
  kills: number;
  lateLanded: number;
  /** Times a late write of ours left Trusted Server's signing kid out of active-kids (mended). */
  lateWritesOverTrustedServer: number;
  lateDropped: number;
  violations: number;
  /** Steps that were Trusted Server's own writes. */
  trustedServerWrites: number;
  /** How often each error code was answered. */
  errors: Record<string, number>;
  /** Runs whose final key log was checked signature by signature (the others had none). */
  keyLogsVerified: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom(...OPERATIONS),
  pick: fc.nat({ max: 20 }),
  // About one call in eight fails, in one of the ways above.
  faults: fc.array(
    fc.oneof(
      { arbitrary: fc.constant(null), weight: 7 },
      { arbitrary: fc.constantFrom(...FAULTS), weight: 1 },
    ),
    { maxLength: 14 },
  ),
  advanceMs: fc.oneof(
    fc.integer({ min: 0, max: 5_000 }),
    fc.integer({ min: 0, max: LEASE_MS + LATE_MS + 60_000 }),
  ),
  inFlight: fc.array(fc.constantFrom('land' as const, 'drop' as const, 'keep' as const), {
    maxLength: 4,
  }),
});

/** Runs `runs` random sequences of `minSteps`–`maxSteps` steps; throws on the first violation. */
export async function runCrashModel(options: {
  runs: number;
  minSteps: number;
  maxSteps: number;
  seed: number;
  /** Replays one run of a failure report (fast-check's `path`). */
  path?: string;
}): Promise<ModelTotals> {
  const totals: ModelTotals = {
    runs: 0,
    operations: 0,
    committed: 0,
    refusedOrFailed: 0,
    unknown: 0,
    calls: 0,
    faults: 0,
    kills: 0,
    lateLanded: 0,
    lateWritesOverTrustedServer: 0,
    lateDropped: 0,
    violations: 0,
    trustedServerWrites: 0,
    errors: {},
    keyLogsVerified: 0,
  };
  const property = fc.asyncProperty(
    fc.array(stepArb, { minLength: options.minSteps, maxLength: options.maxSteps }),
    fc.infiniteStream(fc.boolean()),
    async (steps, coins) => {
      const coin = coins[Symbol.iterator]();
      const flip = (): boolean => coin.next().value === true;
      try {
        await playRun(steps, flip, totals);
      } catch (err) {
        totals.violations++;
        throw err;
      }
    },
  );
  await fc.assert(property, {
    numRuns: options.runs,
    seed: options.seed,
    endOnFailure: true,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  return totals;
}

async function playRun(steps: Step[], flip: () => boolean, totals: ModelTotals): Promise<void> {
  const world = new ModelWorld('2026-11-22T09:00:00.000Z', LATE_MS);
  world.items.set('ts-2025-10-A', DEV_JWK);
  world.items.set('current-kid', 'ts-2025-10-A');
  world.items.set('active-kids', 'ts-2025-10-A');
  world.secrets.set('ts-2025-10-A', DEV_SEED);
  let lastVersion = 0;
  let n = 0;
  const random = seededRandom(steps.length * 7919 + 17);

  for (const step of steps) {
    n++;
    if (step.op === 'ts-rotate' || step.op === 'ts-deactivate') {
      await trustedServerWrites(world, step, n);
      world.trustedServerWriteCount++;
      totals.trustedServerWrites++;
      lastVersion = checkInvariants(world, lastVersion, `step ${n} (${step.op})`);
      world.advance(step.advanceMs, () => flip());
      lastVersion = checkInvariants(world, lastVersion, `step ${n} after time passed`);
      continue;
    }
    const before = world.items.get('keyring');
    const engine = processEngine(
      world,
      random,
      `r${n}`,
      (_call, index) => step.faults[index] ?? undefined,
    );
    const request = requestFor(step, world);
    totals.operations++;
    let outcome: 'committed' | 'not_committed' | 'unknown' | 'refused' = 'refused';
    // What the operation settled before it failed (an earlier operation's change, completed).
    let settledFirst: unknown;
    // The earlier intent it was settling when it failed, if it failed there.
    let settling: { keyring?: string } | undefined;
    let traceErr = '';
    try {
      if (request === 'repair') {
        await engine.repair();
      } else {
        const result = await engine.mutate(request);
        outcome = 'committed';
        // A success is only ever reported for what is in the store.
        if (!result.deletedOrphanSecret) {
          expect(world.items.get('keyring'), 'a reported commit is in the store').toBe(
            serializeKeyring(result.after),
          );
        }
      }
    } catch (err) {
      if (!(err instanceof TskError) && !(err instanceof Killed)) throw err;
      traceErr = err instanceof TskError ? `${err.code}: ${err.message}` : 'killed';
      if (err instanceof TskError) {
        totals.errors[err.code] = (totals.errors[err.code] ?? 0) + 1;
        const declared = err.details?.['outcome'];
        if (declared === 'unknown') outcome = 'unknown';
        else if (declared === 'not_committed') outcome = 'not_committed';
        settledFirst = err.details?.['settled'];
        settling = err.details?.['pending_intent'] as { keyring?: string } | undefined;
      }
    }
    if (outcome === 'committed') {
      totals.committed++;
      // A commit folds what the stores say first: the race above is mended from here on.
      world.lateWriteOverTrustedServer = false;
    } else if (outcome === 'unknown') totals.unknown++;
    else totals.refusedOrFailed++;
    if (outcome === 'not_committed') {
      // "Nothing was published" is a promise: the keyring item is as it was.
      // Settling a removal completes it (it only goes forward), which is that removal's change.
      const completed = typeof settledFirst === 'string' && settledFirst.includes('was completed');
      // Failing while settling, it may have written part of that settlement: a removal's, which
      // goes forward, up to its keyring.
      const allowed = [before, ...(settling?.keyring !== undefined ? [settling.keyring] : [])];
      if (!completed) {
        expect(allowed, 'a refused operation changed the keyring').toContain(
          world.items.get('keyring'),
        );
      }
    }
    if (process.env['TSK_MODEL_TRACE'])
      console.log(
        `step ${n} ${step.op} ${JSON.stringify(request)} faults=${JSON.stringify(step.faults)} -> ${outcome} ${traceErr} | secrets=${[...world.secrets.keys()].join(',')} active=${world.items.get('active-kids')} v=${world.items.get('keyring') ? parseKeyring(world.items.get('keyring')!).version : 0} kv=${[...world.kv.keys()].join(',')}`,
      );
    lastVersion = checkInvariants(world, lastVersion, `step ${n} (${step.op})`);
    // Late writes may land now, be lost, or wait; then time passes (landing any that are due).
    let i = 0;
    world.shuffleInFlight(() => step.inFlight[i++] ?? 'keep');
    lastVersion = checkInvariants(world, lastVersion, `step ${n} after late writes`);
    world.advance(step.advanceMs, () => flip());
    lastVersion = checkInvariants(world, lastVersion, `step ${n} after time passed`);
  }

  // The end of a bad day: every write still in flight lands or dies, the bounds pass, and one
  // fault-free repair settles whatever is pending. Then the stores must be whole.
  world.flush(() => flip());
  world.advance(LEASE_MS + LATE_MS + CALL_TIMEOUT_MS, () => flip());
  const engine = processEngine(world, random, 'final', () => undefined);
  await engine.repair();
  lastVersion = checkInvariants(world, lastVersion, 'after the final repair');
  // What Trusted Server's tools wrote is folded into the keyring (as any next change would).
  await processEngine(world, random, 'final-adopt', () => undefined).mutate({ operation: 'adopt' });
  world.lateWriteOverTrustedServer = false;
  lastVersion = checkInvariants(world, lastVersion, 'after folding drift');
  totals.keyLogsVerified += await checkKeyLogSignatures(world, 'at the end of the run');
  expect(pendingClaims(world), 'no unsettled intent is left').toEqual([]);
  const text = world.items.get('keyring');
  if (text !== undefined) {
    const keyring = parseKeyring(text);
    const wanted = derivedItems(keyring);
    for (const [key, value] of wanted) {
      expect(world.items.get(key), `item ${key} agrees with the keyring`).toBe(value);
    }
    const listed = new Set(keyring.keysets.map((k) => k.id));
    for (const name of world.secrets.keys()) {
      expect(listed.has(name), `private key ${name} is listed once all is settled`).toBe(true);
    }
  }
  totals.calls += world.stats.calls;
  totals.faults += world.stats.faults;
  totals.kills += world.stats.kills;
  totals.lateLanded += world.stats.lateLanded;
  totals.lateWritesOverTrustedServer += world.racesSeen.size;
  totals.lateDropped += world.stats.lateDropped;
  totals.runs++;
}

/** An engine in its own "process" over the model world, with `plan` choosing each call's fault. */
export function processEngine(
  world: ModelWorld,
  random: Random,
  requestId: string,
  plan: (call: CallName, index: number) => FaultKind | undefined,
): KeyringEngine {
  const view = world.process(plan);
  const guard = new KvLease(
    view,
    world.clock,
    { holder: 'model', requestId },
    {
      operationMs: LEASE_MS,
      lateWriteMs: LATE_MS,
    },
  );
  return new KeyringEngine({
    api: view,
    clock: world.clock,
    random,
    deployment: DEPLOYMENT,
    keyLifetimeDays: 90,
    guard,
    callTimeoutMs: CALL_TIMEOUT_MS,
    lateWriteBoundMs: LATE_MS,
    // The edge's reads of the private keys (what signs an endorsement in the key log): the
    // secrets that have landed, without faults of their own.
    privateKeys: { get: (name) => Promise.resolve(world.secrets.get(name) ?? null) },
  });
}

function requestFor(step: Step, world: ModelWorld): MutationRequest | 'repair' {
  if (step.op === 'repair') return 'repair';
  if (step.op === 'ts-rotate' || step.op === 'ts-deactivate') throw new Error('not ours');
  if (step.op === 'rotate' || step.op === 'prepare') return { operation: step.op };
  const text = world.items.get('keyring');
  const ids = text ? parseKeyring(text).keysets.map((k) => k.id) : ['ts-2025-10-A'];
  // Now and then an id the keyring does not list (a removed key, a typo).
  const id = ids[step.pick % (ids.length + 1)] ?? 'ts-2000-01-01';
  return { operation: step.op, id };
}

/**
 * The invariants, at any moment: every published kid (in Trusted Server's items and in the
 * keyring) has its JWK and private key; exactly one key is ACTIVE; every private key is listed in
 * the keyring or the journal; the keyring version never goes back.
 */
export function checkInvariants(world: ModelWorld, lastVersion: number, where: string): number {
  const published = parseActiveKids(world.items.get('active-kids') ?? null);
  const current = world.items.get('current-kid');
  const pending = pendingClaims(world);
  // A removal deletes the private key before it unpublishes the key: until its claim is settled,
  // the key it names (never the signing one) may be published without its private key.
  const removing = new Set(
    pending.flatMap((i) => (i.delete_secret !== undefined ? [i.delete_secret] : [])),
  );
  const mayLackKey = (kid: string): boolean => removing.has(kid) && kid !== current;
  for (const kid of published) {
    expect(world.items.has(kid), `${where}: JWK of published ${kid}`).toBe(true);
    if (mayLackKey(kid)) continue;
    expect(world.secrets.has(kid), `${where}: private key of published ${kid}`).toBe(true);
  }
  if (current !== undefined && !published.includes(current) && world.lateWriteOverTrustedServer) {
    // The documented race: our late bulk update put back an `active-kids` that predates Trusted
    // Server's rotate. The signing kid keeps its JWK and private key (this service's edge still
    // publishes it), and the next change of ours must put it back (checked once one commits).
    expect(world.items.has(current), `${where}: JWK of the signing kid ${current}`).toBe(true);
    expect(world.secrets.has(current), `${where}: private key of ${current}`).toBe(true);
    world.racesSeen.add(current);
  } else if (current !== undefined) {
    expect(published, `${where}: current-kid is published`).toContain(current);
  }
  const known = new Set<string>();
  for (const intent of pending) {
    for (const name of [intent.create_secret, intent.delete_secret]) if (name) known.add(name);
  }
  const text = world.items.get('keyring');
  let version = lastVersion;
  // A key Trusted Server's items name (published, or a JWK item its tools left) is accounted for:
  // the next change folds it into the keyring.
  for (const kid of published) known.add(kid);
  for (const key of world.items.keys()) known.add(key);
  if (text !== undefined) {
    const keyring = parseKeyring(text);
    version = keyring.version;
    expect(version, `${where}: the keyring version never goes back`).toBeGreaterThanOrEqual(
      lastVersion,
    );
    expect(
      keyring.keysets.filter((k) => k.state === 'ACTIVE').length,
      `${where}: exactly one ACTIVE key`,
    ).toBe(1);
    for (const k of keyring.keysets) {
      known.add(k.id);
      if (PUBLISHED_STATES.has(k.state) && !mayLackKey(k.id)) {
        expect(world.secrets.has(k.id), `${where}: private key of published ${k.id}`).toBe(true);
      }
    }
  }
  for (const name of world.secrets.keys()) {
    expect(known.has(name), `${where}: private key ${name} is in the keyring or the journal`).toBe(
      true,
    );
  }
  checkKeyLog(world.items, pending[0]?.keyring, where);
  return version;
}

/**
 * The intents of claims on keyring versions not committed yet (the journal): every claim record
 * is readable, and at most one version beyond the stored keyring's is claimed.
 */
export function pendingClaims(world: ModelWorld): Intent[] {
  const text = world.items.get('keyring');
  const version = text === undefined ? 0 : parseKeyring(text).version;
  const out: Intent[] = [];
  for (const [key, entry] of world.kv) {
    const record = parseLockRecord(entry.value);
    expect(record, `the lock record ${key} is readable`).not.toBeNull();
    const at = /^(.+)@(\d+)$/.exec(key);
    expect(at?.[1], `lock key ${key} is a claim on a version of ${DEPLOYMENT}`).toBe(DEPLOYMENT);
    if (Number(at?.[2]) > version && record?.intent) out.push(record.intent);
  }
  expect(out.length, 'at most one uncommitted claim holds an intent').toBeLessThanOrEqual(1);
  return out;
}

/**
 * The key log's invariants (docs/key-log.md): no key the keyring says the service endorsed is
 * without its endorsement (same kid, same public key) in the `key-log` item, and no kid the log
 * endorses is missing from the keyring (published, or removed and retired), except the key an
 * unsettled intent's keyring brings in (its bulk may have landed up to the keyring, not beyond).
 */
export function checkKeyLog(
  items: ReadonlyMap<string, string>,
  pendingKeyring: string | undefined,
  where: string,
): void {
  const text = items.get('keyring');
  const parsed = parseKeyLog(items.get('key-log'));
  expect(parsed === null || isKeyLog(parsed), `${where}: the key log is readable`).toBe(true);
  const log = parsed !== null && isKeyLog(parsed) ? parsed : null;
  const endorsed = endorsedKeys(log);
  const keyring = text === undefined ? null : parseKeyring(text);
  for (const k of keyring?.keysets ?? []) {
    if (k.endorsed_at === undefined) continue;
    expect(endorsed.get(k.id), `${where}: ${k.id} is marked endorsed and the log endorses it`).toBe(
      k.jwk.x,
    );
  }
  const pending = pendingKeyring === undefined ? null : parseKeyring(pendingKeyring);
  for (const [kid, x] of endorsed) {
    const listed =
      keyring?.keysets.some((k) => k.id === kid && k.jwk.x === x) === true ||
      (keyring !== null && isRetired(keyring, kid)) ||
      pending?.keysets.some((k) => k.id === kid && k.jwk.x === x) === true;
    expect(listed, `${where}: ${kid}, endorsed by the log, is in the keyring or the journal`).toBe(
      true,
    );
  }
}

/** At the end of a run: the stored log verifies, signature by signature. */
async function checkKeyLogSignatures(world: ModelWorld, where: string): Promise<number> {
  const parsed = parseKeyLog(world.items.get('key-log'));
  if (parsed === null || !isKeyLog(parsed)) return 0;
  expect(await keyLogProblem(parsed), `${where}: the key log verifies`).toBeNull();
  return 1;
}

/** Deterministic randomness for kids and keys, so a failing run replays exactly. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0 || 1;
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        out[i] = state & 0xff;
      }
      return out;
    },
  };
}

/**
 * Trusted Server's rotate (a new kid: its secret, its JWK, then `active-kids` and `current-kid`,
 * the order of its `rotation.rs`) or deactivate (a published kid other than the current one leaves
 * `active-kids`; Trusted Server refuses the current one and the last one), written straight into
 * the stores, as its tools do, with no lease.
 */
export async function trustedServerWrites(world: ModelWorld, step: Step, n: number): Promise<void> {
  const published = parseActiveKids(world.items.get('active-kids') ?? null);
  const current = world.items.get('current-kid');
  if (step.op === 'ts-rotate') {
    const kid = `ts-r${n}-${step.pick}`;
    const seed = new Uint8Array(32).map((_, i) => (n * 31 + i * 7 + step.pick) & 0xff);
    world.secrets.set(kid, btoa(String.fromCharCode(...seed)));
    world.items.set(kid, JSON.stringify(publicJwk(kid, await publicKeyOf(seed))));
    world.items.set('active-kids', [...published.filter((k) => k !== kid), kid].join(','));
    world.items.set('current-kid', kid);
    return;
  }
  const candidates = published.filter((k) => k !== current);
  if (candidates.length === 0 || published.length < 2) return;
  const kid = candidates[step.pick % candidates.length]!;
  world.items.set('active-kids', published.filter((k) => k !== kid).join(','));
}
