// `tsctl token create`: a new admin token `<id>.<secret>`. The secret is shown once, here, and
// nowhere else: the store only ever holds its SHA-256 (`tokenRecord`), so a lost token is
// replaced, never recovered.
import { randomBytes } from 'node:crypto';
import { isTokenId, newTokenSecret, tokenRecord, type Role } from '../../core/auth/admin-token.js';
import { TIMEOUT_OPTION } from '../args.js';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import {
  ADMIN_TOKENS_STORE,
  installLocalAdminToken,
  localTarget,
  LOCAL_OPTIONS,
} from '../local-admin-tokens.js';
import { requireDefaultDeployment } from '../context.js';

/** `token create`. */
export const tokenCreate: Command = {
  words: ['token', 'create'],
  summary: 'generate an admin token and its admin_tokens entry (--local installs it)',
  description:
    'Prints the token <id>.<secret> once, the admin_tokens secret-store entry (name = id, value = ' +
    '{"sha256","role"}) and the Fastly CLI command that uploads it. Only the hash is stored, so ' +
    'keep the token now. With --local it is also installed in the local edge (npm start), found ' +
    'from its state directory; an existing id is refused unless --replace is given. Talks to no edge.',
  args: [],
  options: {
    role: {
      type: 'string',
      value: 'ROLE',
      description: 'viewer (read) or operator (change); required',
    },
    id: { type: 'string', value: 'ID', description: 'the token id (default tok-<8 hex>)' },
    ...LOCAL_OPTIONS,
    replace: {
      type: 'boolean',
      description: 'with --local: replace an existing token with this id (its holder loses access)',
    },
    ...TIMEOUT_OPTION,
  },
  examples: [
    'tsctl token create --role operator --id ops-alice',
    'tsctl token create --role viewer --local',
  ],
  async run(ctx) {
    requireDefaultDeployment(
      ctx,
      'admin tokens',
      'leave out --deployment-name: one admin_tokens store serves every deployment, and a token acts on all of them',
    );
    const role = ctx.flags.string('role');
    if (role !== 'viewer' && role !== 'operator') {
      throw new UsageError(
        role === undefined
          ? 'missing --role viewer|operator'
          : `--role must be viewer or operator, not "${role}"`,
      );
    }
    const id = ctx.flags.string('id') ?? `tok-${randomBytes(4).toString('hex')}`;
    if (!isTokenId(id)) throw new UsageError(`--id must be 1-64 of A-Z a-z 0-9 _ -, not "${id}"`);
    const local = await localTarget(ctx);
    const replace = ctx.flags.boolean('replace');
    if (replace && !local) throw new UsageError('--replace needs --local');
    const secret = newTokenSecret({ bytes: (n) => new Uint8Array(randomBytes(n)) });
    const record = await tokenRecord(secret, role satisfies Role);
    const command = `printf '%s' '${record}' | fastly secret-store-entry create --store-id=<${ADMIN_TOKENS_STORE} id> --name=${id} --stdin`;
    // Install before printing: a token the store does not know must not look usable.
    const storeId = local
      ? await installLocalAdminToken(ctx, local, id, record, { replace })
      : undefined;
    const token = `${id}.${secret}`;
    if (ctx.output === 'json') {
      ctx.print.out(
        JSON.stringify({
          token,
          id,
          role,
          secret_store_entry: { store: ADMIN_TOKENS_STORE, name: id, value: record },
          upload_command: command,
          installed: local && storeId ? { api_endpoint: local.apiUrl, store_id: storeId } : null,
        }),
      );
      return EXIT.ok;
    }
    ctx.print.out(
      [
        `Admin token (${role}). It is shown only this once; keep it in a password manager:`,
        '',
        `  ${token}`,
        '',
        `Secret-store entry for ${ADMIN_TOKENS_STORE} (holds only the hash of the secret):`,
        `  name:  ${id}`,
        `  value: ${record}`,
        '',
        'Upload it to Fastly with:',
        `  ${command}`,
        ...(local && storeId
          ? [
              '',
              `Installed in the local edge's ${ADMIN_TOKENS_STORE} store (${storeId} at ${local.apiUrl}).`,
            ]
          : []),
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
