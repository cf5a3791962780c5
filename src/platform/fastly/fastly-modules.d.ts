// Types of the two `fastly:*` modules the edge uses, straight from @fastly/js-compute. Only these
// per-module files are referenced, not the package's index: the index also declares Fastly's
// globals (Request, fetch, setTimeout, console, ...), which would merge into the DOM and
// @types/node globals of the whole project (skipLibCheck hides the clash rather than fixing it).
// The files declare ambient modules and cannot be imported, and the package exports no subpaths.
/* eslint-disable @typescript-eslint/triple-slash-reference */
/// <reference path="../../../node_modules/@fastly/js-compute/types/config-store.d.ts" />
/// <reference path="../../../node_modules/@fastly/js-compute/types/secret-store.d.ts" />
/// <reference path="../../../node_modules/@fastly/js-compute/types/edge-rate-limiter.d.ts" />
/// <reference path="../../../node_modules/@fastly/js-compute/types/logger.d.ts" />
/// <reference path="../../../node_modules/@fastly/js-compute/types/env.d.ts" />
