#!/usr/bin/env node
// The `tsctl` bin: registers tsx (a devDependency, as for `npm start`) so Node can load the
// TypeScript sources, then runs src/cli/main.ts with the real process. Paths are resolved from
// this file, so it works from any working directory.
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: process.stderr.isTTY === true,
});
