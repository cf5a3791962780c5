// How a local edge process ends: on SIGINT or SIGTERM it closes its servers (and the local API,
// whose state is written atomically) once, then exits 0, or 1 if closing failed.

/** Closes with `close` on the first SIGINT or SIGTERM, then exits. */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping\n`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
