// Command-line parsing with `util.parseArgs`, in two passes: a lenient one that finds which
// command the words name (flags may come before or after them), then a strict one with exactly
// that command's flags, so a typo is a usage error rather than silently ignored.
import { parseArgs } from 'node:util';
import type { Command, Flags, OptionSpec, OptionTable, OutputMode } from './command.js';
import { UsageError } from './errors.js';

/** `-o` and `-h`, on every command. */
export const COMMON_OPTIONS: OptionTable = {
  output: {
    type: 'string',
    short: 'o',
    value: 'FORMAT',
    description: 'pretty (for people; the default) or json (the API answer verbatim)',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  // Every command takes it, as in SPIRL's flag table; those that serve only "default" say so.
  'deployment-name': {
    type: 'string',
    value: 'NAME',
    description: 'the deployment to act on (default "default")',
  },
};

/** How long to wait for an answer. */
export const TIMEOUT_OPTION: OptionTable = {
  timeout: {
    type: 'string',
    value: 'SECONDS',
    description: 'give up on a request after this long (default 30)',
  },
};

/** Where the edge is, and how long to wait for it. */
export const EDGE_OPTIONS: OptionTable = {
  'trust-domain': {
    type: 'string',
    value: 'DOMAIN',
    description: 'the service domain; the endpoint is https://DOMAIN',
  },
  endpoint: {
    type: 'string',
    value: 'URL',
    description: 'the edge URL, instead of https://DOMAIN (env TSCTL_ENDPOINT)',
  },
  ...TIMEOUT_OPTION,
};

/** The admin token. */
export const TOKEN_OPTIONS: OptionTable = {
  'token-file': {
    type: 'string',
    value: 'FILE',
    description: 'read the admin token <id>.<secret> from FILE',
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'the admin token (visible in ps: prefer --token-file or TSCTL_TOKEN)',
  },
};

/** Flags of the commands that use admin routes. */
export const ADMIN_OPTIONS: OptionTable = { ...EDGE_OPTIONS, ...TOKEN_OPTIONS };

/** Flags of every `keyset` command (`--deployment-name` is on every command). */
export const KEYSET_OPTIONS: OptionTable = ADMIN_OPTIONS;

/** Flags of every command that changes keys: preview it, or wait for the edge to serve it. */
export const MUTATION_OPTIONS: OptionTable = {
  'dry-run': {
    type: 'boolean',
    description: 'check everything and show what would change, writing nothing',
  },
  wait: {
    type: 'boolean',
    description: 'after the change, wait until the edge serves it (exit 9 if not in time)',
  },
  'wait-timeout': {
    type: 'string',
    value: 'SECONDS',
    description: "with --wait: the longest wait (default the edge's, 120 s)",
  },
};

/** Every flag of a command, including the common ones. */
export function optionsOf(command: Command): OptionTable {
  return { ...command.options, ...COMMON_OPTIONS };
}

/** What the words on the command line select. */
export type Located =
  | { kind: 'command'; command: Command; help: boolean }
  | { kind: 'group'; group: string; help: boolean }
  | { kind: 'none'; help: boolean }
  | { kind: 'unknown'; words: string; group?: string };

/** Finds the command (or command group) named by the leading positional words. */
export function locate(argv: readonly string[], commands: readonly Command[]): Located {
  const union: Record<string, OptionSpec> = {};
  for (const command of commands) Object.assign(union, optionsOf(command));
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: toParseArgs(union),
    strict: false,
    allowPositionals: true,
  });
  const help = values['help'] === true;
  const [first, second] = positionals;
  if (first === undefined) return { kind: 'none', help };
  const exact = (words: readonly string[]): Command | undefined =>
    commands.find(
      (c) => c.words.length === words.length && c.words.every((w, i) => w === words[i]),
    );
  const command = (second !== undefined ? exact([first, second]) : undefined) ?? exact([first]);
  if (command) return { kind: 'command', command, help };
  if (commands.some((c) => c.words.length > 1 && c.words[0] === first)) {
    if (second === undefined) return { kind: 'group', group: first, help };
    return { kind: 'unknown', words: `${first} ${second}`, group: first };
  }
  return { kind: 'unknown', words: first };
}

/** A command's arguments and flags, parsed strictly. */
export interface Parsed {
  args: string[];
  flags: Flags;
  output: OutputMode;
}

/** Parses argv for `command`: unknown flags, missing or extra arguments are usage errors. */
export function parseFor(command: Command, argv: readonly string[]): Parsed {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: toParseArgs(optionsOf(command)),
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    // parseArgs explains well ("Unknown option '--kidd'"); its advice on positionals that start
    // with "-" is dropped, since no tsctl argument does.
    const text = err instanceof Error ? err.message : String(err);
    throw new UsageError(
      text.split(/\.? To specify a positional/)[0]?.replace(/\s*\n\s*/g, ' ') ?? text,
    );
  }
  const args = positionals.slice(command.words.length);
  const missing = command.args
    .slice(args.length)
    .filter((a) => !a.optional)
    .map((a) => a.name);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(' and ')}`);
  if (args.length > command.args.length) {
    throw new UsageError(`unexpected argument "${args[command.args.length] ?? ''}"`);
  }
  const flags: Flags = {
    string: (name) => {
      const v = values[name];
      return typeof v === 'string' ? v : undefined;
    },
    boolean: (name) => values[name] === true,
  };
  return { args, flags, output: outputMode(flags.string('output')) };
}

/** `--timeout SECONDS` in milliseconds (default 30 s). */
export function timeoutMs(flags: Flags): number {
  const text = flags.string('timeout');
  if (text === undefined) return 30_000;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(seconds > 0) || seconds > 3600) {
    throw new UsageError(`--timeout must be a number of seconds between 0 and 3600, not "${text}"`);
  }
  return Math.round(seconds * 1000);
}

function outputMode(text: string | undefined): OutputMode {
  if (text === undefined || text === 'pretty') return 'pretty';
  if (text === 'json') return 'json';
  throw new UsageError(`--output must be pretty or json, not "${text}"`);
}

function toParseArgs(
  table: OptionTable,
): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    Object.entries(table).map(([name, spec]) => [
      name,
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
    ]),
  );
}
