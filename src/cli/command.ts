// The shape every tsctl command has: the words that select it, its arguments and flags (which
// drive both parsing and `--help`), examples, and `run`, which answers an exit code.
import type { HttpClient } from './client.js';
import type { ExitCode } from './errors.js';
import type { CliIo, Printer } from './io.js';

/** One flag, as `util.parseArgs` wants it plus what `--help` shows. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in help, e.g. `URL`. */
  value?: string;
  description: string;
}

/** Flags by long name. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** One required positional argument. */
export interface ArgSpec {
  name: string;
  description: string;
  /** May be left out (shown as `[NAME]`). */
  optional?: boolean;
}

/** `pretty` for people, `json` for scripts (the API's answer verbatim). */
export type OutputMode = 'pretty' | 'json';

/** Parsed flag values, read by name. */
export interface Flags {
  /** The string value of a flag, or undefined when absent. */
  string(name: string): string | undefined;
  /** True when a boolean flag was given. */
  boolean(name: string): boolean;
}

/** What a command gets to work with. */
export interface CommandContext {
  args: readonly string[];
  flags: Flags;
  output: OutputMode;
  io: CliIo;
  print: Printer;
  /** The request timeout in milliseconds (`--timeout`, default 30 s). */
  timeoutMs: number;
  /** The `--deployment-name` (default `default`). */
  deployment: string;
  /** A client for the edge's public routes; it carries no credentials. */
  edge(): HttpClient;
  /** A client for the admin routes, carrying the admin token. */
  admin(): Promise<HttpClient>;
  /** A client for another server (the local Fastly API), with the same timeout and progress. */
  client(baseUrl: string, credentials?: Record<string, string>): HttpClient;
}

/** A command. */
export interface Command {
  /** The words that select it, e.g. `['keyset', 'list']`. */
  words: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** What `--help` says beyond the summary. */
  description?: string;
  args: readonly ArgSpec[];
  options: OptionTable;
  examples: readonly string[];
  run(ctx: CommandContext): Promise<ExitCode>;
}
