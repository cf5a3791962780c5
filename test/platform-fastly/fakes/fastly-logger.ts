// Stand-in for `fastly:logger` (mapped by vitest.config.ts): endpoints tests declare receive
// lines; an undeclared endpoint throws, as a log endpoint missing from the service does.

/** Declared endpoints and what they received. */
export const logEndpoints = new Map<string, string[]>();

/** The fake `Logger`. */
export class Logger {
  readonly #lines: string[];

  constructor(name: string) {
    const lines = logEndpoints.get(name);
    if (!lines) throw new TypeError(`Logger constructor: no log endpoint named '${name}'`);
    this.#lines = lines;
  }

  log(message: unknown): void {
    this.#lines.push(String(message));
  }
}
