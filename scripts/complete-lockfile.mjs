// Completes package-lock.json with the other platforms' builds of packages that ship native
// binaries as optional dependencies (esbuild-style `pkg-<os>-<cpu>[-<libc>]`).
//
// Why: the registry mirror this project is developed against serves only the linux-x64 builds,
// so `npm install` cannot record the others, and `npm ci` then refuses the lockfile ("Missing:
// @fastly/cli-darwin-arm64@ from lock file"). A lockfile written with full registry access has an
// entry for every platform, each marked optional with its os/cpu/libc, which npm skips on other
// machines. This script writes those entries (version taken from the installed sibling build), so
// `npm ci` works here and everywhere. Run it after any `npm install` that changes the lockfile:
//   npm install <pkg> && node scripts/complete-lockfile.mjs
import console from 'node:console';
import { readFileSync, writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const LOCK = new URL('../package-lock.json', import.meta.url);
const OS = [
  'darwin',
  'linux',
  'win32',
  'freebsd',
  'android',
  'openharmony',
  'netbsd',
  'openbsd',
  'sunos',
  'aix',
];
const CPU = {
  x64: 'x64',
  x32: 'ia32',
  ia32: 'ia32',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64el',
};

/** os/cpu/libc from a platform package name, or null when the name carries no platform. */
function platformOf(name) {
  const tail = name.split('/').pop() ?? '';
  if (/(^|-)wasm32-wasi$/.test(tail)) return { cpu: ['wasm32'] };
  const parts = tail.split('-');
  for (let i = 0; i < parts.length; i++) {
    if (!OS.includes(parts[i])) continue;
    const cpu = CPU[parts[i + 1] ?? ''];
    if (!cpu) continue;
    const rest = parts.slice(i + 2);
    const out = { os: [parts[i]], cpu: [cpu] };
    if (rest.includes('musl')) out.libc = ['musl'];
    else if (rest.includes('gnu') || rest.includes('gnueabihf')) out.libc = ['glibc'];
    return out;
  }
  return null;
}

/** Where Node's resolution looks for `dep` from the package at `path`, nearest first. */
function resolutionDirs(path) {
  const dirs = [];
  let at = path;
  for (;;) {
    dirs.push(at === '' ? '' : `${at}/`);
    if (at === '') return dirs;
    const cut = at.lastIndexOf('/node_modules/');
    at = cut < 0 ? '' : at.slice(0, cut);
  }
}

const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries({ ...packages })) {
  for (const [dep, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    const dirs = resolutionDirs(path);
    if (dirs.some((d) => packages[`${d}node_modules/${dep}`])) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    // Place it beside the build that is installed for this machine (same family, same version).
    const stem = dep.replace(
      /-(wasm32-wasi|(darwin|linux|win32|freebsd|android|openharmony)-.*)$/,
      '',
    );
    let home = '';
    let version = String(spec).replace(/^[=^~]/, '');
    for (const d of dirs) {
      const sibling = Object.entries(packages).find(
        ([p]) =>
          p.startsWith(`${d}node_modules/${stem}-`) &&
          !p.slice(`${d}node_modules/`.length).includes('/node_modules/'),
      );
      if (sibling) {
        home = d;
        version = sibling[1].version;
        break;
      }
    }
    packages[`${home}node_modules/${dep}`] = {
      version,
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) =>
    a === b ? 0 : a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1,
  ),
);
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} other-platform optional entries`);
