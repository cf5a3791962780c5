// `tsctl keyset remove ID`: deletes a key set for good (JWK and private key). The edge refuses
// the Active key set; tsctl adds nothing to that rule, it only reports it.
import { KEYSET_OPTIONS, MUTATION_OPTIONS } from '../args.js';
import type { Command } from '../command.js';
import { keysetsPath, runKeysetChange } from '../keyring.js';

/** `keyset remove`. */
export const keysetRemove: Command = {
  words: ['keyset', 'remove'],
  summary: 'remove a key set for good: unpublish it and delete its private key',
  description:
    'Allowed from any state but Active. Signatures made with it stop verifying. Operator token.',
  args: [{ name: 'ID', description: 'the key set id (its kid)' }],
  options: { ...KEYSET_OPTIONS, ...MUTATION_OPTIONS },
  examples: [
    'tsctl keyset remove ts-2025-10-A --trust-domain keys.example.com --token-file ~/.tsctl-token',
  ],
  run(ctx) {
    const id = ctx.args[0] ?? '';
    return runKeysetChange(ctx, {
      method: 'DELETE',
      path: keysetsPath(ctx.deployment, id),
      describe: () => `Keyset ${id} removed.`,
    });
  },
};
