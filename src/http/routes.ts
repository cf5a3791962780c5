// Every route, in one table. Trusted Server's admin routes also answer under `/_ts`.
import { deactivateKey, rotateKey, signTestPayload } from './routes/admin-keys.js';
import { discoveryDocument, jwksDocument } from './routes/discovery.js';
import { doctorRepair, doctorReport } from './routes/doctor.js';
import { keyLogDocument } from './routes/key-log.js';
import { schedulePlan, scheduleRun, statusReport } from './routes/schedule.js';
import {
  adoptDrift,
  listKeysets,
  prepareKeyset,
  removeKeyset,
  transitionKeyset,
} from './routes/keysets.js';
import { verifySignature } from './routes/verify.js';
import type { Route } from './router.js';

const COMPAT_PREFIXES = ['/admin/keys', '/_ts/admin/keys'];

/** The route table. `role` is the least a caller needs; mutating methods always need operator. */
export const ROUTES: readonly Route[] = [
  {
    pattern: '/.well-known/trusted-server.json',
    methods: { GET: discoveryDocument, HEAD: discoveryDocument },
    errors: 'public',
  },
  {
    pattern: '/.well-known/jwks.json',
    methods: { GET: jwksDocument, HEAD: jwksDocument },
    errors: 'public',
  },
  {
    pattern: '/.well-known/deployments/:deployment/trusted-server.json',
    methods: { GET: discoveryDocument, HEAD: discoveryDocument },
    errors: 'public',
  },
  {
    pattern: '/.well-known/deployments/:deployment/jwks.json',
    methods: { GET: jwksDocument, HEAD: jwksDocument },
    errors: 'public',
  },
  {
    pattern: '/.well-known/trusted-server-key-log.json',
    methods: { GET: keyLogDocument, HEAD: keyLogDocument },
    errors: 'public',
  },
  {
    pattern: '/.well-known/deployments/:deployment/key-log.json',
    methods: { GET: keyLogDocument, HEAD: keyLogDocument },
    errors: 'public',
  },
  { pattern: '/verify-signature', methods: { POST: verifySignature }, errors: 'verify' },
  ...COMPAT_PREFIXES.flatMap((prefix): Route[] => [
    {
      pattern: `${prefix}/rotate`,
      methods: { POST: rotateKey },
      role: 'operator',
      errors: 'rotate',
    },
    {
      pattern: `${prefix}/deactivate`,
      methods: { POST: deactivateKey },
      role: 'operator',
      errors: 'deactivate',
    },
    {
      pattern: `${prefix}/sign`,
      methods: { POST: signTestPayload },
      role: 'operator',
      errors: 'sign',
    },
  ]),
  {
    pattern: '/admin/deployments/:deployment/keysets',
    methods: { GET: listKeysets, POST: prepareKeyset },
    role: 'viewer',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/adopt',
    methods: { POST: adoptDrift },
    role: 'operator',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/doctor',
    methods: { GET: doctorReport, POST: doctorRepair },
    role: 'viewer',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/schedule',
    methods: { GET: schedulePlan },
    role: 'viewer',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/schedule/run',
    methods: { POST: scheduleRun },
    role: 'operator',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/status',
    methods: { GET: statusReport },
    role: 'viewer',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/keysets/:id',
    methods: { DELETE: removeKeyset },
    role: 'operator',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/keysets/:id/:action',
    methods: { POST: transitionKeyset },
    role: 'operator',
    errors: 'problem',
  },
];
