#!/usr/bin/env node
import { Command } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerRun } from './commands/run.js';
import { registerValidate } from './commands/validate.js';

const program = new Command();
program.name('agentd').description('aaos: an agent runtime where agents are worker-thread actors and capabilities replace permissions').version('0.1.0');
registerRun(program);
registerValidate(program);
registerDemo(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`agentd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
