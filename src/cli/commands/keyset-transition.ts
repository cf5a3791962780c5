// `tsctl keyset <action> ID`: one command per action of the lifecycle's transition table
// (src/core/keyring/transitions.ts), so a new action cannot be missing here: the record below
// must then give its words, or typechecking fails.
import { KEYSET_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { keysetsPath, runKeysetChange, type MutationAnswer } from '../keyring.js';
import type { Keyring } from '../../core/keyring/document.js';
import { KEYSET_ACTIONS, type KeysetAction } from '../../core/keyring/transitions.js';
import { stateLabel } from '../output.js';

/** What tsctl says of one action. */
interface Wording {
  past: string;
  summary: string;
  description: string;
}

const WORDING: Readonly<Record<KeysetAction, Wording>> = {
  activate: {
    past: 'activated',
    summary: 'make a Prepared key set the one that signs',
    description:
      'The previously Active key set becomes Prepared, so activating it again is the rollback. ' +
      'A key set published for less than the activation dwell is refused (activation_too_early, ' +
      'with the time it becomes allowed): partners may not have it yet. --force overrides that, ' +
      'for a compromise; the audit trail marks it forced.',
  },
  taint: {
    past: 'tainted',
    summary: 'mark a Prepared key set for retirement (still published)',
    description:
      'Tainted key sets stay in the JWKS, listed as tainted in the discovery document, and never ' +
      'sign. The taint fixes a cutoff (now + verify.taint_cutoff_skew_seconds, default 60 s), ' +
      'published beside it: from then on the key verifies only payloads whose ts is before it, ' +
      'so a leaked key stops vouching for new forgeries while requests signed before still verify.',
  },
  deactivate: {
    past: 'deactivated',
    summary: 'stop publishing a Prepared or Tainted key set (its key is kept)',
    description:
      'A Deactivated key set leaves the JWKS and no longer verifies; restore brings it back.',
  },
  restore: {
    past: 'restored',
    summary: 'publish a Deactivated key set again, as Prepared',
    description: 'The key set returns to the JWKS in state Prepared.',
  },
};

/** `keyset activate --force`. */
const FORCE_OPTION = {
  force: {
    type: 'boolean',
    description: 'sign at once even if published for less than the activation dwell (compromise)',
  },
} as const;

interface Transition extends Wording {
  action: KeysetAction;
}

/** One command per transition. */
export const keysetTransitions: readonly Command[] = KEYSET_ACTIONS.map((action): Transition => ({
  action,
  ...WORDING[action],
})).map((t): Command => ({
  words: ['keyset', t.action],
  summary: t.summary,
  description: `${t.description} Operator token.`,
  args: [{ name: 'ID', description: 'the key set id (its kid), as `tsctl keyset list` shows it' }],
  options:
    t.action === 'activate'
      ? { ...FORCE_OPTION, ...KEYSET_OPTIONS, ...MUTATION_OPTIONS }
      : { ...KEYSET_OPTIONS, ...MUTATION_OPTIONS },
  examples: [
    `tsctl keyset ${t.action} ts-2026-11-22 --trust-domain keys.example.com --token-file ~/.tsctl-token`,
  ],
  run(ctx) {
    const id = ctx.args[0] ?? '';
    const force = t.action === 'activate' && ctx.flags.boolean('force');
    return runKeysetChange(ctx, {
      method: 'POST',
      path: keysetsPath(ctx.deployment, id, t.action),
      ...(force ? { body: { force: true } } : {}),
      describe: (result, before) => describe(t, id, result, before),
    });
  },
}));

/** `Keyset X activated.`, naming the key set that stopped signing when there was one. */
function describe(t: Transition, id: string, result: MutationAnswer, before: Keyring): string {
  const line = `Keyset ${id} ${t.past}.`;
  if (t.action === 'taint') {
    const cutoff = result.keyring.keysets.find((k) => k.id === id)?.taint_cutoff;
    return cutoff === undefined
      ? line
      : `${line} It verifies only payloads whose ts is before ${cutoff} (its taint cutoff).`;
  }
  if (t.action !== 'activate') return line;
  const previous = before.keysets.find((k) => k.state === 'ACTIVE' && k.id !== id);
  const now = previous && result.keyring.keysets.find((k) => k.id === previous.id);
  return now ? `${line} ${previous.id} is now ${stateLabel(now.state)}.` : line;
}
