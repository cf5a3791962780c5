// How a local edge process ends: on SIGINT or SIGTERM it closes its servers (and the local API,
// whose state is written atomically) once, then exits 0, or 1 if closing failed.
//
// Under npm (`npm start`, `npm run serve`) the process is npm's grandchild (npm → sh → node), and
// a SIGTERM sent to npm's pid (what a process manager or `kill $(pgrep -f "npm start")` does)
// ends npm and the shell but never reaches node, which kept serving on the ports with nobody to
// stop it. So a process started by npm also stops when its parent goes away.

/** How often the parent is looked at; a second is quick enough for a person and costs nothing. */
const PARENT_CHECK_MS = 1000;

/**
 * Closes with `close` on the first SIGINT or SIGTERM, or, when npm started this process
 * (`env.npm_lifecycle_event` is set), once its parent process has exited; then exits.
 */
export function stopOnSignals(
  close: () => Promise<void>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): void {
  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${reason}: stopping\n`);
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
  if (env['npm_lifecycle_event']) {
    const parent = process.ppid;
    // A reparented process has a new ppid (1, or a subreaper's): the shell npm started is gone.
    setInterval(() => {
      if (process.ppid !== parent) stop(`parent process ${parent} exited`);
    }, PARENT_CHECK_MS).unref();
  }
}
