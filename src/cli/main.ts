#!/usr/bin/env node
/** The `herald` command. Each subcommand lives in its own file; this one only wires them up. */
import { Command } from 'commander';
import { HERALD_VERSION } from '../version.js';
import { registerServe } from './serve.js';
import { registerMigrate } from './migrate.js';
import { scriptable } from './exit-codes.js';
import { registerKeys } from './keys.js';
import { registerApps } from './apps.js';
import { registerEndpoints } from './endpoints.js';
import { registerEventTypes } from './event-types.js';
import { registerPublish } from './publish.js';
import { registerRecover } from './recover.js';
import { registerListen } from './listen.js';
import { registerVerify } from './verify.js';
import { registerSecrets } from './secrets.js';

const program = new Command()
  .name('herald')
  .description('Self-hostable webhook delivery: publish events, fan out, sign, deliver at least once.')
  .version(HERALD_VERSION)
  .showHelpAfterError();

registerServe(program);
registerMigrate(program);
// Commands registered from here on exit 2 on usage errors (see exit-codes.ts); serve and migrate keep theirs.
scriptable(program);
registerKeys(program);
registerApps(program);
registerEndpoints(program);
registerEventTypes(program);
registerPublish(program);
registerRecover(program);
registerListen(program);
registerVerify(program);
registerSecrets(program);

await program.parseAsync(process.argv);
