#!/usr/bin/env node
/** The `herald` command. Each subcommand lives in its own file; this one only wires them up. */
import { Command } from 'commander';
import { HERALD_VERSION } from '../version.js';
import { registerServe } from './serve.js';
import { registerMigrate } from './migrate.js';

const program = new Command()
  .name('herald')
  .description('Self-hostable webhook delivery: publish events, fan out, sign, deliver at least once.')
  .version(HERALD_VERSION)
  .showHelpAfterError();

registerServe(program);
registerMigrate(program);

await program.parseAsync(process.argv);
