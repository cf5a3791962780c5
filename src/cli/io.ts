// What tsctl touches outside itself: standard input on request, two text streams, the environment, whether a person is
// watching, and the HTTP transport. `run(argv, io)` takes all of it, so tests run tsctl
// in-process against real servers and read exactly what an operator would see.

/** Anything text can be written to (`process.stdout` fits). */
export interface Writer {
  write(chunk: string): unknown;
}

/** tsctl's whole environment. */
export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: Readonly<Record<string, string | undefined>>;
  /** True when stderr is a terminal: only then does tsctl draw progress. */
  isTTY: boolean;
  /** The HTTP transport; the global `fetch` unless a test needs to step between requests. */
  fetch?: typeof fetch;
  /** All of standard input, as bytes (read only by commands that take `--...-stdin`). */
  stdin?: () => Promise<Uint8Array>;
}

const REDACTED = '[redacted]';

/**
 * Line-oriented output that never shows a registered secret. The admin token is registered as
 * soon as it is read, so even a server that echoed it back could not make tsctl print it.
 */
export class Printer {
  readonly #io: CliIo;
  readonly #secrets = new Set<string>();

  constructor(io: CliIo) {
    this.#io = io;
  }

  /** Never print `secret` from now on (on either stream). */
  redact(secret: string): void {
    if (secret.length > 0) this.#secrets.add(secret);
  }

  /** One line (or block) on stdout. */
  out(text: string): void {
    this.#io.stdout.write(this.#clean(text) + '\n');
  }

  /** One line (or block) on stderr. */
  err(text: string): void {
    this.#io.stderr.write(this.#clean(text) + '\n');
  }

  #clean(text: string): string {
    let result = text;
    for (const secret of this.#secrets) result = result.split(secret).join(REDACTED);
    return result;
  }
}
