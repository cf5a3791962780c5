// The lifecycle as a table (docs/architecture.md, "The lifecycle table"): for each
// operation on an existing key set, what each state becomes, or the exact reason it is refused.
// `transition` applies one operation to a keyring and returns the next one; it does no I/O.
import { TskError } from '../errors.js';
import {
  activeKeyset,
  publishedKeysets,
  retireKid,
  type Keyring,
  type Keyset,
  type KeysetState,
} from './document.js';
import { cutoffAt, DEFAULT_TAINT_CUTOFF_SKEW_SECONDS } from './taint-cutoff.js';

/** Operations on an existing key set. */
export type KeysetOperation = 'activate' | 'taint' | 'deactivate' | 'restore' | 'remove';
/** Operations that create a key set. */
export type CreatingOperation = 'prepare' | 'rotate';
/** Every operation. */
export type Operation = KeysetOperation | CreatingOperation;

/** A state the key set moves to, `removed`, or the refusal message. */
type Outcome = { to: KeysetState | 'removed' } | { refuse: string };

/** The transition table. Every cell is spelled out so it can be held against the docs. */
export const TRANSITIONS: Readonly<
  Record<KeysetOperation, Readonly<Record<KeysetState, Outcome>>>
> = {
  activate: {
    PREPARED: { to: 'ACTIVE' },
    ACTIVE: { refuse: 'key set is already active' },
    TAINTED: { refuse: 'cannot activate tainted key set' },
    DEACTIVATED: { refuse: 'cannot activate deactivated key set' },
  },
  taint: {
    PREPARED: { to: 'TAINTED' },
    ACTIVE: { refuse: 'cannot taint active key set' },
    TAINTED: { refuse: 'key set is already tainted' },
    DEACTIVATED: { refuse: 'cannot taint deactivated key set' },
  },
  deactivate: {
    PREPARED: { to: 'DEACTIVATED' },
    ACTIVE: { refuse: 'cannot deactivate active key set' },
    TAINTED: { to: 'DEACTIVATED' },
    DEACTIVATED: { refuse: 'key set is already deactivated' },
  },
  restore: {
    PREPARED: { refuse: 'cannot restore prepared key set' },
    ACTIVE: { refuse: 'cannot restore active key set' },
    TAINTED: { refuse: 'cannot restore tainted key set' },
    DEACTIVATED: { to: 'PREPARED' },
  },
  remove: {
    PREPARED: { to: 'removed' },
    ACTIVE: { refuse: 'cannot remove active key set' },
    TAINTED: { to: 'removed' },
    DEACTIVATED: { to: 'removed' },
  },
};

/** The operations on an existing key set, in the table's order. */
export const KEYSET_OPERATIONS = Object.keys(TRANSITIONS) as readonly KeysetOperation[];

/** The operations the API names in the path (`POST .../keysets/{id}/{action}`); not `remove`. */
export type KeysetAction = Exclude<KeysetOperation, 'remove'>;

/** Every `KeysetAction`, in the table's order; `remove` is `DELETE .../keysets/{id}` instead. */
export const KEYSET_ACTIONS: readonly KeysetAction[] = KEYSET_OPERATIONS.filter(
  (op): op is KeysetAction => op !== 'remove',
);

/** Whether `name` is a `KeysetAction`. */
export function isKeysetAction(name: string): name is KeysetAction {
  return (KEYSET_ACTIONS as readonly string[]).includes(name);
}

/** Refusals for taking away the last published key (Trusted Server's safety rule). */
const LAST_KEY_MESSAGE: Partial<Record<KeysetOperation, string>> = {
  deactivate: 'Cannot deactivate the last active key',
  remove: 'Cannot remove the last active key',
};

/** Finds a key set or throws `keyset_not_found`. */
export function findKeyset(keyring: Keyring, id: string): Keyset {
  const keyset = keyring.keysets.find((k) => k.id === id);
  if (!keyset) {
    throw new TskError(
      'keyset_not_found',
      `key set "${id}" not found in deployment "${keyring.deployment}"`,
    );
  }
  return keyset;
}

/**
 * Applies `operation` to key set `id` (or adds `created` for prepare/rotate) and returns the
 * next keyring, version unchanged. Refusals are `invalid_transition` / `last_active_key` (409).
 */
export function transition(
  keyring: Keyring,
  operation: Operation,
  args: {
    id?: string;
    created?: Keyset;
    nowIso: string;
    /** A taint's cutoff skew (`verify.taint_cutoff_skew_seconds`); default 60. */
    taintCutoffSkewSeconds?: number;
  },
): Keyring {
  const keysets = keyring.keysets.map((k) => ({ ...k }));
  const next: Keyring = { ...keyring, keysets, updated_at: args.nowIso };

  if (operation === 'prepare' || operation === 'rotate') {
    if (!args.created) throw new Error(`${operation} needs the created key set`);
    keysets.push({ ...args.created, state: 'PREPARED' });
    return operation === 'rotate'
      ? transition(next, 'activate', { id: args.created.id, nowIso: args.nowIso })
      : next;
  }

  const target = findKeyset(next, args.id ?? '');
  const outcome = TRANSITIONS[operation][target.state];
  if ('refuse' in outcome) {
    throw new TskError('invalid_transition', outcome.refuse, {
      details: { keyset: target.id, state: target.state },
    });
  }
  const lastKey = LAST_KEY_MESSAGE[operation];
  const published = publishedKeysets(next);
  if (lastKey && published.length === 1 && published[0]?.id === target.id) {
    throw new TskError('last_active_key', lastKey, { details: { keyset: target.id } });
  }

  if (outcome.to === 'removed') {
    next.keysets = keysets.filter((k) => k !== target);
    // Remembered, so the kid is never issued for another key (partners may cache the old one).
    return retireKid(next, target.id);
  }
  if (outcome.to === 'ACTIVE') {
    const previous = activeKeyset(next);
    if (previous) {
      previous.state = 'PREPARED';
      // The schedule counts a retired key's grace period from here.
      previous.superseded_at = args.nowIso;
    }
    target.activated_at = args.nowIso;
  }
  // A restored key set is published anew: partners' caches may not hold it any more. It is no
  // longer tainted, so its cutoff goes with the taint (docs/taint-cutoff.md).
  if (operation === 'restore') {
    target.published_at = args.nowIso;
    delete target.taint_cutoff;
  }
  if (outcome.to === 'TAINTED') {
    target.tainted_at = args.nowIso;
    target.taint_cutoff = cutoffAt(
      Date.parse(args.nowIso),
      args.taintCutoffSkewSeconds ?? DEFAULT_TAINT_CUTOFF_SKEW_SECONDS,
    );
  }
  if (outcome.to === 'DEACTIVATED') target.deactivated_at = args.nowIso;
  target.state = outcome.to;
  return next;
}
