import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AgentInfo } from '../../kernel/agent-table.js';
import { addDaemonOptions, printJson, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';

/** `agent.run`'s answer (docs/api.md). */
interface RunAnswer {
  run_id: string;
  agent_id: string;
  response: string;
  stop_reason: string;
  error?: { code: string; message: string };
}

interface ForceFlags extends DaemonFlags {
  force?: boolean;
}

const done = (code: number): void => void (process.exitCode = code);

/** Commands for long-lived agents besides the bootstrap: spawn one, talk to it, hold it. */
export function registerPersistent(program: Command): void {
  addDaemonOptions(
    program
      .command('spawn')
      .description('start an agent from a manifest file (a persistent one stays, also across restarts)')
      .argument('<manifest>', 'manifest YAML file, read by the daemon (give a path the daemon can see)'),
  ).action((manifest: string, opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      // relative to where the command runs, not to the daemon's working directory
      const res = await client.call<{ agent_id: string; agent: AgentInfo }>('agent.spawn', {
        manifest_path: resolve(manifest),
      });
      if (opts.json) printJson(res);
      else
        process.stdout.write(
          `spawned agent ${res.agent.name} ${res.agent_id} (${res.agent.lifecycle}, ${res.agent.model})\n`,
        );
      return ExitCode.OK;
    }).then(done),
  );

  addDaemonOptions(
    program
      .command('send')
      .description("put a message in an agent's mailbox and return at once (its work shows in agentd logs <agent>)")
      .argument('<agent>', 'agent id, name or unique id prefix')
      .argument('<text>', 'the message'),
  ).action((agent: string, text: string, opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const res = await client.call<{ agent_id: string; run_id: string }>('agent.send', {
        agent_id: agent,
        message: text,
      });
      if (opts.json) printJson(res);
      else
        process.stdout.write(
          `sent to agent ${res.agent_id} as run ${res.run_id} (follow it with: agentd logs ${res.agent_id} --follow)\n`,
        );
      return ExitCode.OK;
    }).then(done),
  );

  addDaemonOptions(
    program
      .command('ask')
      .description('send an agent a message and print its answer (exit 0 only when it answered)')
      .argument('<agent>', 'agent id, name or unique id prefix')
      .argument('<text>', 'the message'),
  ).action((agent: string, text: string, opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const res = await client.call<RunAnswer>('agent.run', { agent_id: agent, message: text });
      if (opts.json) printJson(res);
      else if (res.stop_reason === 'complete') process.stdout.write(`${res.response}\n`);
      else {
        if (res.response) process.stdout.write(`${res.response}\n`);
        process.stderr.write(
          `agentd ask: the run ended with ${res.stop_reason}${res.error ? `: ${res.error.code}: ${res.error.message}` : ''}\n`,
        );
      }
      return res.stop_reason === 'complete' ? ExitCode.OK : ExitCode.FAILED;
    }).then(done),
  );

  addDaemonOptions(
    program
      .command('pause')
      .description(
        'hold an agent: messages to it queue (up to AAOS_MAILBOX_MAX) until agentd resume; what it is doing finishes',
      )
      .argument('<agent>', 'agent id, name or unique id prefix')
      .option('--force', 'also pause the bootstrap agent (goals then wait until it is resumed)'),
  ).action((agent: string, opts: ForceFlags) =>
    withDaemon(opts, async (client) => {
      const res = await client.call<{ agent_id: string; agent: AgentInfo }>('agent.pause', {
        agent_id: agent,
        ...(opts.force ? { force: true } : {}),
      });
      if (opts.json) printJson(res);
      else
        process.stdout.write(
          `paused agent ${res.agent.name} ${res.agent_id}; messages to it queue until: agentd resume ${res.agent_id}\n`,
        );
      return ExitCode.OK;
    }).then(done),
  );

  addDaemonOptions(
    program
      .command('resume')
      .description('let a paused agent take its queued messages again')
      .argument('<agent>', 'agent id, name or unique id prefix'),
  ).action((agent: string, opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const res = await client.call<{ agent_id: string; agent: AgentInfo }>('agent.resume', { agent_id: agent });
      if (opts.json) printJson(res);
      else process.stdout.write(`resumed agent ${res.agent.name} ${res.agent_id} (${res.agent.queued} queued)\n`);
      return ExitCode.OK;
    }).then(done),
  );
}
