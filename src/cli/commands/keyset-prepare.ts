// `tsctl keyset prepare [--kid KID]`: a new key set, published (partners can fetch it) but not
// yet signing, so caches everywhere hold it before it is activated.
import { KEYSET_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { keysetsPath, runKeysetChange } from '../keyring.js';

/** `keyset prepare`. */
export const keysetPrepare: Command = {
  words: ['keyset', 'prepare'],
  summary: 'create a new key set in state Prepared (published, not signing)',
  description:
    'Generates a new Ed25519 key on the edge. Its kid is ts-YYYY-MM-DD (UTC) unless --kid names ' +
    'one (1-128 of A-Z a-z 0-9 . _ -, starting with a lowercase letter). Operator token.',
  args: [],
  options: {
    kid: { type: 'string', value: 'KID', description: 'the new key set id (kid)' },
    ...KEYSET_OPTIONS,
    ...MUTATION_OPTIONS,
  },
  examples: [
    'tsctl keyset prepare --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl keyset prepare --kid partner-2026-q4 --endpoint http://127.0.0.1:7676 -o json',
  ],
  run(ctx) {
    const kid = ctx.flags.string('kid');
    return runKeysetChange(ctx, {
      method: 'POST',
      path: keysetsPath(ctx.deployment),
      body: kid === undefined ? {} : { kid },
      describe: (result) => `Keyset ${result.keyset?.id ?? '(unknown)'} prepared.`,
    });
  },
};
