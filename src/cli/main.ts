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

export type { CliIo } from './io.js';
export { EXIT } from './errors.js';

/** Runs tsctl with `argv` (without `node` and the script) and answers the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const print = new Printer(io);
  const located = locate(argv, COMMANDS);
  switch (located.kind) {
    case 'none':
      if (located.help) return help(print, topHelp(COMMANDS));
      return usage(print, new UsageError('no command given'), topHelp(COMMANDS));
    case 'group':
      if (located.help) return help(print, groupHelp(COMMANDS, located.group));
      return usage(
        print,
        new UsageError(`"${located.group}" needs a command`),
        groupHelp(COMMANDS, located.group),
      );
    case 'unknown': {
      const text = located.group ? groupHelp(COMMANDS, located.group) : topHelp(COMMANDS);
      return usage(print, new UsageError(`unknown command "${located.words}"`), text);
    }
    case 'command':
      if (located.help) return help(print, commandHelp(located.command));
      return runCommand(located.command, argv, io, print);
  }
}

async function runCommand(
  command: Command,
  argv: readonly string[],
  io: CliIo,
  print: Printer,
): Promise<ExitCode> {
  try {
    const parsed = parseFor(command, argv);
    return await command.run(createContext(parsed, io, print));
  } catch (err) {
    if (err instanceof UsageError) return usage(print, err, commandHelp(command));
    if (err instanceof CliError) {
      print.err(`tsctl: ${err.code}: ${err.message}`);
      if (err.hint !== undefined) print.err(`tsctl: hint: ${err.hint}`);
      return err.exitCode;
    }
    // A bug in tsctl, not a server answer: say what, not the stack (the printer still redacts).
    const message = err instanceof Error ? err.message : String(err);
    print.err(`tsctl: internal: ${message}`);
    return EXIT.failure;
  }
}

function help(print: Printer, text: string): ExitCode {
  print.out(text);
  return EXIT.ok;
}

function usage(print: Printer, err: UsageError, text: string): ExitCode {
  print.err(`tsctl: ${err.code}: ${err.message}`);
  print.err('');
  print.err(text);
  return EXIT.usage;
}
