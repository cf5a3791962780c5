// Every tsctl command, in the order `tsctl --help` lists them.
import type { Command } from '../command.js';
import { doctor } from './doctor.js';
import { jwks } from './jwks.js';
import { keysDeactivate } from './keys-deactivate.js';
import { keysList } from './keys-list.js';
import { keysRotate } from './keys-rotate.js';
import { keysetAdopt } from './keyset-adopt.js';
import { keysetList } from './keyset-list.js';
import { keysetPrepare } from './keyset-prepare.js';
import { keysetRemove } from './keyset-remove.js';
import { keysetTransitions } from './keyset-transition.js';
import { scheduleRun, schedulePlan } from './schedule.js';
import { setup } from './setup.js';
import { status } from './status.js';
import { tokenCreate } from './token-create.js';
import { tokenDelete } from './token-delete.js';
import { tokenList } from './token-list.js';
import { tokenImport } from './token-import.js';
import { verify } from './verify.js';

/** The command table. */
export const COMMANDS: readonly Command[] = [
  keysetList,
  keysetPrepare,
  ...keysetTransitions,
  keysetRemove,
  keysetAdopt,
  keysList,
  keysRotate,
  keysDeactivate,
  jwks,
  verify,
  scheduleRun,
  schedulePlan,
  status,
  doctor,
  tokenCreate,
  tokenImport,
  tokenList,
  tokenDelete,
  setup,
];
