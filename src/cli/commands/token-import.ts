// `tsctl token import`: Trusted Server's HTTP Basic credentials (its `[[handlers]]` username and
// password) as an admin token, so its documented scripts (`curl -u user:password ...`) keep working
// against this service. Only a salted hash of the password is stored (`basicRecord`), under the
// entry the gate looks the username up by (`basicEntryName`); an existing entry is never replaced
// unless --replace says so.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import {
  basicCredentialProblem,
  basicEntryName,
  basicRecord,
  type Role,
} from '../../core/auth/admin-token.js';
import { TIMEOUT_OPTION } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import {
  ADMIN_TOKENS_STORE,
  localTarget,
  LOCAL_OPTIONS,
  openLocalAdminTokens,
  type LocalAdminTokens,
} from '../local-admin-tokens.js';

/** Paths of this service that Trusted Server's key scripts call; a handler must cover one. */
const KEY_ADMIN_PATHS = ['/admin/keys/rotate', '/_ts/admin/keys/rotate'] as const;

/** Trusted Server refuses to start with these passwords (its `Handler::PASSWORD_PLACEHOLDERS`). */
const PLACEHOLDER_PASSWORDS = [
  'replace-with-admin-password-32-bytes',
  'replace-with-admin-password',
  'change-me-admin-password',
];

/** Below this many characters a password gets a warning (it is still imported). */
const MIN_STRONG_PASSWORD = 16;

interface BasicCredential {
  username: string;
  password: string;
  /** Where it came from, for messages (never the password). */
  source: string;
}

/** `token import`. */
export const tokenImport: Command = {
  words: ['token', 'import'],
  summary: "import Trusted Server's Basic credentials as an admin token (--local installs it)",
  description:
    "Makes Trusted Server's HTTP Basic username and password (any characters) an admin token, " +
    'so scripts that send them (curl -u user:password) work here. Give the username with ' +
    '--username and the password on standard input (--password-stdin) or in a file ' +
    '(--password-file; one trailing newline is dropped), or read every [[handlers]] entry that ' +
    "covers the key admin routes from Trusted Server's settings (--from-trusted-server-toml). " +
    'Prints the admin_tokens entry (name derived from the username; value {"sha256","role",' +
    '"salt"}, a salted hash only) and the Fastly CLI command that uploads it. An existing entry ' +
    'is refused unless --replace. With --local it is installed in the local edge (npm start).',
  args: [],
  options: {
    username: { type: 'string', value: 'USER', description: 'the Basic username' },
    'password-stdin': {
      type: 'boolean',
      description: 'read the password from standard input',
    },
    'password-file': {
      type: 'string',
      value: 'FILE',
      description: 'read the password from FILE',
    },
    'from-trusted-server-toml': {
      type: 'string',
      value: 'FILE',
      description: "import the [[handlers]] of Trusted Server's trusted-server.toml instead",
    },
    role: {
      type: 'string',
      value: 'ROLE',
      description: 'viewer or operator (default operator, as Trusted Server grants)',
    },
    replace: { type: 'boolean', description: 'replace an existing entry of the same name' },
    ...LOCAL_OPTIONS,
    ...TIMEOUT_OPTION,
  },
  examples: [
    'printf \'%s\' "$TS_ADMIN_PASSWORD" | tsctl token import --username admin --password-stdin --local',
    'tsctl token import --from-trusted-server-toml trusted-server.toml',
  ],
  async run(ctx) {
    const role = ctx.flags.string('role') ?? 'operator';
    if (role !== 'viewer' && role !== 'operator') {
      throw new UsageError(`--role must be viewer or operator, not "${role}"`);
    }
    const local = await localTarget(ctx);
    const credentials = await readCredentials(ctx);
    for (const c of credentials) {
      // The record is one salted SHA-256, as fast to guess against as the password is short;
      // Trusted Server's own example asks for 32 bytes.
      if ([...c.password].length < MIN_STRONG_PASSWORD) {
        ctx.print.err(
          `tsctl: warning: the password of ${c.source} has fewer than ${MIN_STRONG_PASSWORD} characters; prefer a long random one`,
        );
      }
    }
    const replace = ctx.flags.boolean('replace');
    const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
    const entries = await Promise.all(
      credentials.map(async (c) => ({
        name: await basicEntryName(c.username),
        record: await basicRecord(c.password, role satisfies Role, random),
        source: c.source,
      })),
    );
    let store: LocalAdminTokens | undefined;
    if (local) {
      store = await openLocalAdminTokens(ctx, local);
      if (!replace) {
        // Every name is checked before anything is written: a refusal leaves the store as it was.
        for (const entry of entries) {
          if (await store.has(entry.name)) throw exists(entry.name, entry.source);
        }
      }
      for (const entry of entries) {
        if (replace) await store.put(entry.name, entry.record);
        else await store.create(entry.name, entry.record);
      }
    }
    const results = entries.map((entry) => ({
      name: entry.name,
      source: entry.source,
      record: entry.record,
      command:
        `printf '%s' '${entry.record}' | fastly secret-store-entry create ` +
        `--store-id=<${ADMIN_TOKENS_STORE} id> --name=${entry.name} --stdin${replace ? ' --recreate' : ''}`,
    }));
    if (ctx.output === 'json') {
      ctx.print.out(
        JSON.stringify({
          role,
          imported: results.map((r) => ({
            source: r.source,
            secret_store_entry: { store: ADMIN_TOKENS_STORE, name: r.name, value: r.record },
            upload_command: r.command,
          })),
          installed:
            local && store ? { api_endpoint: local.apiUrl, store_id: store.storeId } : null,
        }),
      );
      return EXIT.ok;
    }
    const lines: string[] = [];
    for (const r of results) {
      lines.push(
        `Basic credentials from ${r.source} as an admin token (${role}); send them as before (curl -u user:password).`,
        `Secret-store entry for ${ADMIN_TOKENS_STORE} (holds only a salted hash of the password):`,
        `  name:  ${r.name}`,
        `  value: ${r.record}`,
        'Upload it to Fastly with:',
        `  ${r.command}`,
        '',
      );
    }
    if (local && store) {
      lines.push(
        `Installed in the local edge's ${ADMIN_TOKENS_STORE} store (${store.storeId} at ${local.apiUrl}).`,
      );
    }
    ctx.print.out(lines.join('\n').trimEnd());
    return EXIT.ok;
  },
};

function exists(name: string, source: string): CliError {
  return new CliError(
    'token_exists',
    `${ADMIN_TOKENS_STORE} already has an entry "${name}" (for ${source}); nothing was written`,
    EXIT.refused,
    'pass --replace to replace it',
  );
}

/** The credentials the flags name, each checked as the gate will read it. */
async function readCredentials(ctx: CommandContext): Promise<BasicCredential[]> {
  const { flags } = ctx;
  const toml = flags.string('from-trusted-server-toml');
  const username = flags.string('username');
  const fromStdin = flags.boolean('password-stdin');
  const file = flags.string('password-file');
  let credentials: BasicCredential[];
  if (toml !== undefined) {
    if (username !== undefined || fromStdin || file !== undefined) {
      throw new UsageError(
        '--from-trusted-server-toml reads the usernames and passwords itself; drop --username and --password-*',
      );
    }
    credentials = await handlersOf(toml);
  } else {
    if (username === undefined) {
      throw new UsageError('missing --username USER (or --from-trusted-server-toml FILE)');
    }
    if (fromStdin === (file !== undefined)) {
      throw new UsageError(
        'give the password with exactly one of --password-stdin, --password-file',
      );
    }
    const password = dropNewline(
      fromStdin ? await readStdin(ctx) : await readText(file ?? '', '--password-file'),
    );
    credentials = [{ username, password, source: '--username' }];
  }
  for (const c of credentials) {
    const problem = basicCredentialProblem(c.username, c.password);
    if (problem !== null) throw new UsageError(`${c.source}: ${problem}`);
    if (PLACEHOLDER_PASSWORDS.includes(c.password.trim().toLowerCase())) {
      throw new UsageError(
        `${c.source}: the password is a placeholder Trusted Server refuses to run with; set a real one`,
      );
    }
  }
  return credentials;
}

/** The `[[handlers]]` of a trusted-server.toml whose path pattern covers the key admin routes. */
async function handlersOf(path: string): Promise<BasicCredential[]> {
  let settings: unknown;
  try {
    settings = parse(await readText(path, '--from-trusted-server-toml'));
  } catch (err) {
    if (err instanceof CliError || err instanceof UsageError) throw err;
    throw new UsageError(`${path} is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const handlers =
    typeof settings === 'object' && settings !== null
      ? (settings as Record<string, unknown>)['handlers']
      : undefined;
  if (!Array.isArray(handlers) || handlers.length === 0) {
    throw new UsageError(`${path} has no [[handlers]] entries`);
  }
  const found = new Map<string, BasicCredential>();
  handlers.forEach((handler: unknown, index) => {
    const where = `${path} [[handlers]] #${index + 1}`;
    const h = (typeof handler === 'object' && handler !== null ? handler : {}) as Record<
      string,
      unknown
    >;
    const [pattern, username, password] = [h['path'], h['username'], h['password']];
    if (
      typeof pattern !== 'string' ||
      typeof username !== 'string' ||
      typeof password !== 'string'
    ) {
      throw new UsageError(`${where}: needs path, username and password strings`);
    }
    let regex: RegExp;
    try {
      regex = new RegExp(pattern);
    } catch {
      throw new UsageError(
        `${where}: path "${pattern}" is not a regular expression tsctl can read`,
      );
    }
    if (!KEY_ADMIN_PATHS.some((p) => regex.test(p))) return;
    const before = found.get(username);
    if (before && before.password !== password) {
      throw new UsageError(
        `${where}: the username of ${before.source} again with another password; one entry cannot hold both`,
      );
    }
    found.set(username, { username, password, source: where });
  });
  if (found.size === 0) {
    throw new UsageError(
      `${path}: no [[handlers]] path covers ${KEY_ADMIN_PATHS.join(' or ')}; nothing to import`,
    );
  }
  return [...found.values()];
}

async function readStdin(ctx: CommandContext): Promise<string> {
  if (!ctx.io.stdin) {
    throw new CliError('no_stdin', 'standard input is not available here', EXIT.usage);
  }
  return decode(await ctx.io.stdin(), 'standard input');
}

async function readText(path: string, flag: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${flag}: cannot read ${path} (${code})`);
  }
  return decode(bytes, path);
}

function decode(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${what} is not UTF-8 text`);
  }
}

/** `echo secret | ...` and files saved by editors end in a newline that is not the password's. */
function dropNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
