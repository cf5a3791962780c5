// tsctl's entry: `run(argv, io)` finds the command, parses its flags, runs it and turns every
// failure into `tsctl: <code>: <message>` on stderr and an exit code. src/cli/bin.ts (bundled into
// cli/dist/tsctl.mjs) calls it with the real process; tests call it in-process.
import { locate, parseFor } from './args.js';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { createContext } from './context.js';
import { CliError, EXIT, UsageError, type ExitCode } from './errors.js';
import { commandHelp, groupHelp, topHelp } from './help.js';
import { Printer, type CliIo } from './io.js';
import { TSCTL_VERSION } from './version.js';

export type { CliIo } from './io.js';
export { EXIT } from './errors.js';

/** Runs tsctl with `argv` (without `node` and the script) and answers the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const print = new Printer(io);
  const json = wantsJson(argv);
  if (argv.includes('--version') || argv.includes('-V')) {
    print.out(
      json ? JSON.stringify({ name: 'tsctl', version: TSCTL_VERSION }) : `tsctl ${TSCTL_VERSION}`,
    );
    return EXIT.ok;
  }
  const located = locate(argv, COMMANDS);
  switch (located.kind) {
    case 'none':
      if (located.help) return help(print, topHelp(COMMANDS));
      return usage(print, new UsageError('no command given'), topHelp(COMMANDS), json);
    case 'group':
      if (located.help) return help(print, groupHelp(COMMANDS, located.group));
      return usage(
        print,
        new UsageError(`"${located.group}" needs a command`),
        groupHelp(COMMANDS, located.group),
        json,
      );
    case 'unknown': {
      const text = located.group ? groupHelp(COMMANDS, located.group) : topHelp(COMMANDS);
      return usage(print, new UsageError(`unknown command "${located.words}"`), text, json);
    }
    case 'command':
      if (located.help) return help(print, commandHelp(located.command));
      return runCommand(located.command, argv, io, print, json);
  }
}

async function runCommand(
  command: Command,
  argv: readonly string[],
  io: CliIo,
  print: Printer,
  json: boolean,
): Promise<ExitCode> {
  try {
    const parsed = parseFor(command, argv);
    return await command.run(createContext(parsed, io, print));
  } catch (err) {
    if (err instanceof UsageError) return usage(print, err, commandHelp(command), json);
    if (err instanceof CliError) return failure(print, err, json);
    // A bug in tsctl, not a server answer: say what, not the stack (the printer still redacts).
    const message = err instanceof Error ? err.message : String(err);
    return failure(print, new CliError('internal', message, EXIT.failure), json);
  }
}

/**
 * Reports a failure: `tsctl: <code>: <message>` (and the hint) on stderr, and with `-o json` also
 * one JSON object on stdout, so a script that parses stdout always gets an answer.
 */
function failure(print: Printer, err: CliError, json: boolean): ExitCode {
  print.err(`tsctl: ${err.code}: ${err.message}`);
  if (err.hint !== undefined) print.err(`tsctl: hint: ${err.hint}`);
  if (json) {
    const error: Record<string, unknown> = {
      code: err.code,
      message: err.message,
      exit_code: err.exitCode,
      ...err.details,
    };
    if (err.hint !== undefined) error['hint'] = err.hint;
    print.out(JSON.stringify({ error }));
  }
  return err.exitCode;
}

/**
 * True when argv asks for JSON (`-o json`, `-ojson`, `--output json`, `--output=json`), found
 * before the strict parse so that even a usage error is answered in JSON.
 */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some(
    (arg, i) =>
      arg === '-ojson' ||
      arg === '--output=json' ||
      ((arg === '-o' || arg === '--output') && argv[i + 1] === 'json'),
  );
}

function help(print: Printer, text: string): ExitCode {
  print.out(text);
  return EXIT.ok;
}

function usage(print: Printer, err: UsageError, text: string, json: boolean): ExitCode {
  print.err(`tsctl: ${err.code}: ${err.message}`);
  print.err('');
  print.err(text);
  if (json)
    print.out(
      JSON.stringify({ error: { code: err.code, message: err.message, exit_code: EXIT.usage } }),
    );
  return EXIT.usage;
}
