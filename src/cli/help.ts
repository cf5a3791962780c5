// `--help` texts, generated from the command table so every flag is documented where it is
// parsed, plus the exit codes scripts depend on.
import { COMMON_OPTIONS, EDGE_OPTIONS, optionsOf, TOKEN_OPTIONS } from './args.js';
import type { Command, OptionTable } from './command.js';
import { alignColumns } from './output.js';

const GROUPS: ReadonlyArray<{ words: readonly string[]; title: string }> = [
  {
    words: ['keyset'],
    title:
      'Key sets (prepare → activate; taint, deactivate ⇄ restore, remove; see the README diagram)',
  },
  { words: ['keys'], title: "Trusted Server's key routes (default deployment)" },
  { words: ['jwks', 'verify'], title: 'Public routes (no token)' },
  { words: ['schedule'], title: 'The rotation schedule (run it from cron or a scheduled CI job)' },
  { words: ['status', 'doctor'], title: 'Health and monitoring' },
  { words: ['token'], title: 'Admin tokens' },
];

/** The exit codes, as `--help` and docs/tsctl.md list them. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  refused by the server (another 4xx, e.g. invalid_transition); verify: not verified
  2  usage error: unknown command or flag, missing argument (the usage is printed)
  3  conflict: operation_in_progress or keyring_version_mismatch; nothing was retried; schedule run: an operator's change came first
  4  authentication or permission: 401/403, or a malformed token
  5  network or server failure: connection refused, timeout (--timeout, default 30 s), 5xx
  6  outcome unknown: a change may still take effect (a Fastly API write timed out, or tsctl's
     own request did); nothing was retried. Run \`tsctl doctor\` after the time it names
  7  doctor, status: something needs a person (the findings or problems say what and how)
  8  rate limited (429): nothing was done; retry after the time the message names
  9  --wait: the change committed, but the edge did not serve it within the wait (it may later)
With -o json every failure also prints {"error":{"code","message","exit_code",...}} on stdout
(with "status", "retry_after_seconds" and the server's "response" where there was one).`;

/** `tsctl --help`. */
export function topHelp(commands: readonly Command[]): string {
  // One column width for every group, so all summaries line up.
  const width = Math.max(...commands.map((c) => synopsis(c).length));
  const sections: string[] = [];
  for (const group of GROUPS) {
    const members = commands.filter((c) => group.words.includes(c.words[0] ?? ''));
    const lines = members.map((c) => `  ${synopsis(c).padEnd(width)}  ${c.summary}`);
    if (lines.length > 0) sections.push([`${group.title}:`, ...lines].join('\n'));
  }
  return `tsctl operates the request-signing keys of a trusted-server-keys edge through its admin API.

Usage: tsctl <command> [arguments] [flags]
       tsctl --version

${sections.join('\n\n')}

Where the edge is (every command that talks to it):
${flagRows(EDGE_OPTIONS)}

Admin token (keyset and keys commands; viewer reads, operator changes):
${flagRows(TOKEN_OPTIONS)}

On every command:
${flagRows(COMMON_OPTIONS)}

Environment:
  TSCTL_ENDPOINT  the edge URL when --endpoint is not given (with --trust-domain too: a usage error)
  TSCTL_TOKEN     the admin token when neither --token nor --token-file is given
  TSK_STATE_DIR   token ... --local: the local state directory (default .fastly-local)
  TSK_API_PORT    token ... --local: the local Fastly API port, when the state directory does
                  not say where its running edge is (default 7677)

${EXIT_CODES_HELP}

Examples:
  export TSCTL_ENDPOINT=http://127.0.0.1:7676          # the local edge of \`npm start\`
  export TSCTL_TOKEN="$(cat .fastly-local/admin-token)"
  tsctl keyset list
  tsctl keyset prepare
  tsctl keyset activate ts-2026-11-22
  # A production edge: unset the local endpoint first (--trust-domain next to TSCTL_ENDPOINT is
  # refused, so a typed domain is never silently sent elsewhere)
  unset TSCTL_ENDPOINT TSCTL_TOKEN
  tsctl keyset list --trust-domain keys.example.com --token-file ~/.tsctl-token -o json

Run "tsctl <command> --help" for a command's flags and examples.`;
}

/** `tsctl keyset --help`: the group's commands. */
export function groupHelp(commands: readonly Command[], group: string): string {
  const members = commands.filter((c) => c.words[0] === group);
  const rows = members.map((c) => [`  ${synopsis(c)}`, c.summary]);
  return `Usage: tsctl ${group} <command> [arguments] [flags]

Commands:
${alignColumns(rows)}

Run "tsctl ${group} <command> --help" for a command's flags and examples.`;
}

/** `tsctl <command> --help`: usage, arguments, every flag, examples, exit codes. */
export function commandHelp(command: Command): string {
  const parts = [`Usage: tsctl ${synopsis(command)} [flags]`, sentence(command)];
  if (command.args.length > 0) {
    parts.push(
      `Arguments:\n${alignColumns(command.args.map((a) => [`  ${a.name}`, a.description]))}`,
    );
  }
  parts.push(`Flags:\n${flagRows(optionsOf(command))}`);
  parts.push(`Examples:\n${command.examples.map((e) => `  ${e}`).join('\n')}`);
  parts.push(EXIT_CODES_HELP);
  return parts.join('\n\n');
}

/** `keyset activate ID`. */
function synopsis(command: Command): string {
  return [...command.words, ...command.args.map((a) => (a.optional ? `[${a.name}]` : a.name))].join(
    ' ',
  );
}

function sentence(command: Command): string {
  const summary = command.summary.charAt(0).toUpperCase() + command.summary.slice(1);
  return wrap(command.description ? `${summary}. ${command.description}` : `${summary}.`, 96);
}

function flagRows(table: OptionTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const short = spec.short === undefined ? '    ' : `-${spec.short}, `;
    const value = spec.value === undefined ? '' : ` ${spec.value}`;
    return [`  ${short}--${name}${value}`, spec.description];
  });
  return alignColumns(rows);
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}
