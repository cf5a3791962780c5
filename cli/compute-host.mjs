#!/usr/bin/env node
// The Viceroy-compatible launcher (`fastly compute serve --viceroy-path cli/compute-host.mjs`, and
// `npm run serve`): registers tsx so Node can load the TypeScript sources, then runs the Compute
// host in src/local-compute with Viceroy's arguments (-v, -C fastly.toml, --addr HOST:PORT, wasm).
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import(new URL('../src/local-compute/main.ts', import.meta.url).href);
await run(process.argv.slice(2));
