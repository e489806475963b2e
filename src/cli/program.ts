import { Command } from 'commander';
import { registerAgents } from './commands/agents.js';
import { registerApprovals } from './commands/approvals.js';
import { registerCompletion } from './commands/completion.js';
import { registerCluster } from './commands/cluster.js';
import { registerConfig } from './commands/config.js';
import { registerConsole } from './commands/console.js';
import { registerDemo } from './commands/demo.js';
import { registerHealth } from './commands/health.js';
import { registerInit } from './commands/init.js';
import { registerLogs } from './commands/logs.js';
import { registerMcp } from './commands/mcp.js';
import { registerPersistent } from './commands/persistent.js';
import { registerRoles } from './commands/roles.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerStore } from './commands/store.js';
import { registerSubmit } from './commands/submit.js';
import { registerValidate } from './commands/validate.js';
import { addHelp, commandPath } from './help.js';
import { VERSION } from './version.js';

/**
 * Usage errors exit 2 (not commander's 1) so scripts can tell them from failed runs, and
 * say what the command takes: its arguments, every option, the subcommands.
 */
function usageOnError(cmd: Command): void {
  const path = cmd.parent ? `agentd ${commandPath(cmd)}` : 'agentd';
  const options = cmd.options.map((o) => o.flags);
  const lines = [`usage: ${path} ${cmd.usage()}`];
  if (options.length > 0) lines.push(`options: ${[...options, '-h, --help'].join(', ')}`);
  if (cmd.commands.length > 0) lines.push(`commands: ${cmd.commands.map((c) => c.name()).join(', ')}`);
  lines.push(`(${path} --help for examples)`);
  cmd.exitOverride().showHelpAfterError(lines.join('\n'));
  for (const sub of cmd.commands) usageOnError(sub);
}

/** Every command of `agentd`, registered (nothing parsed yet): the entry point and the tests build it. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('agentd')
    .description('aaos: an agent runtime where agents are worker-thread actors and capabilities replace permissions')
    .version(VERSION)
    // usage errors exit 2 (not commander's 1) so scripts can tell them from failed runs
    .exitOverride();
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
  registerInit(program);
  registerStore(program);
  registerRoles(program);
  registerDemo(program);
  registerCluster(program);
  registerConfig(program);
  registerConsole(program);
  registerCompletion(program);
  usageOnError(program);
  addHelp(program);
  return program;
}
