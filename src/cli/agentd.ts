#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAgents } from './commands/agents.js';
import { registerApprovals } from './commands/approvals.js';
import { registerCompletion } from './commands/completion.js';
import { registerCluster } from './commands/cluster.js';
import { registerConfig } from './commands/config.js';
import { registerConsole } from './commands/console.js';
import { registerDemo } from './commands/demo.js';
import { registerHealth } from './commands/health.js';
import { registerLogs } from './commands/logs.js';
import { registerMcp } from './commands/mcp.js';
import { registerPersistent } from './commands/persistent.js';
import { registerRoles } from './commands/roles.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerStore } from './commands/store.js';
import { registerSubmit } from './commands/submit.js';
import { registerValidate } from './commands/validate.js';
import { disableColor } from './color.js';
import { ExitCode } from './exit-codes.js';
import { unsupportedNode } from './node-version.js';
import { VERSION } from './version.js';

const refusal = unsupportedNode();
if (refusal) {
  process.stderr.write(`${refusal}\n`);
  process.exit(ExitCode.FAILED);
}

// `agentd logs … | head`: a reader that goes away ends the command quietly, not with a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.OK);
  throw err;
});

const program = new Command();
program
  .name('agentd')
  .description('aaos: an agent runtime where agents are worker-thread actors and capabilities replace permissions')
  .version(VERSION)
  // usage errors exit 2 (not commander's 1) so scripts can tell them from failed runs
  .exitOverride()
  .showHelpAfterError('(run agentd help <command> for its options)');
registerRun(program);
registerSubmit(program);
registerAgents(program);
registerPersistent(program);
registerRuns(program);
registerLogs(program);
registerMcp(program);
registerApprovals(program);
registerHealth(program);
registerValidate(program);
registerStore(program);
registerRoles(program);
registerDemo(program);
registerCluster(program);
registerConfig(program);
registerConsole(program);
registerCompletion(program);
for (const cmd of program.commands) cmd.exitOverride();

// --no-color is accepted anywhere, like NO_COLOR
const argv = process.argv.filter((arg) => arg !== '--no-color');
if (argv.length !== process.argv.length) disableColor();

program.parseAsync(argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // help and --version "exit" with 0; everything else is a usage error
    process.exitCode = err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    return;
  }
  process.stderr.write(`agentd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = ExitCode.FAILED;
});
