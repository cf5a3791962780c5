// The `tsctl` executable: runs the CLI with the real process. scripts/build-cli.mjs bundles this
// file (and everything it imports) into cli/dist/tsctl.mjs, so an install without dev tools runs it.
import process from 'node:process';
import { run } from './main.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: process.stderr.isTTY === true,
  async stdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  },
});
