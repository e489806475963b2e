import type { Command } from 'commander';
import type { AgentInfo } from '../../kernel/agent-table.js';
import { addDaemonOptions, printJson, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { table, truncate } from '../format.js';
import { usageError } from '../usage.js';
import { planTreeLines, type PlanTreeNode } from '../plan-tree.js';
import { resolveTarget } from '../target.js';

/** `  name       text`, later lines of a multi-line text indented under the first. */
function field(name: string, text: string): string {
  return `  ${name.padEnd(10)} ${text.replace(/\r?\n/g, `\n${' '.repeat(13)}`)}`;
}

function agentRows(agents: AgentInfo[]): string {
  return table(
    ['ID', 'NAME', 'STATE', 'LIFECYCLE', 'MODEL', 'CAPS', 'PARENT'],
    agents.map((a) => [
      a.id,
      a.name,
      a.state,
      a.lifecycle,
      truncate(a.model, 40),
      String(a.capability_count),
      a.parent_id ?? '-',
    ]),
  );
}

export function registerAgents(program: Command): void {
  addDaemonOptions(program.command('list').description('list live agents')).action((opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const { agents } = await client.call<{ agents: AgentInfo[] }>('agent.list');
      if (opts.json) printJson(agents);
      else process.stdout.write(`${agents.length === 0 ? 'no live agents' : agentRows(agents)}\n`);
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code)),
  );

  addDaemonOptions(
    program
      .command('status')
      .description('show an agent (id or name) or a run')
      .argument('<id>', 'agent id, agent name or run id'),
  ).action((id: string, opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const found = await resolveTarget(client, id);
      if (opts.json) printJson('agent' in found ? found.agent : found.run);
      else if ('agent' in found) {
        const a = found.agent;
        const lines = [
          `agent ${a.id} (${a.name})`,
          `  state      ${a.state}${a.failure ? ` — ${a.failure}` : ''}`,
          `  lifecycle  ${a.lifecycle}`,
          `  model      ${a.model}`,
        ];
        lines.push(
          `  depth      ${a.depth}${a.parent_id ? ` (parent ${a.parent_id})` : ''}`,
          `  tokens     ${a.capability_count} live`,
          `  queued     ${a.queued}, busy ${a.busy}`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      } else {
        const r = found.run;
        // the goal and the result in full: status is where an operator reads them
        const lines = [
          `run ${r.run_id}`,
          `  state      ${r.state}`,
          field('goal', r.goal),
          `  workspace  ${r.workspace}`,
          `  created    ${r.created_at}`,
        ];
        if (r.ended_at) lines.push(`  ended      ${r.ended_at}`);
        if (r.error) lines.push(`  error      ${r.error.code}: ${r.error.message}`);
        if (r.result) lines.push(field('result', r.result));
        const plan = (r as { plan?: { state: string; replans_used: number; subtasks: PlanTreeNode[] } }).plan;
        if (plan)
          lines.push(
            `  plan       ${plan.state}, ${plan.subtasks.length} subtasks, ${plan.replans_used} replans`,
            ...planTreeLines(plan.subtasks, '    '),
          );
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code)),
  );

  addDaemonOptions(
    program
      .command('stop')
      .description('stop an agent (and its children), or cancel a run')
      .argument('<id>', 'agent id, agent name or run id (or a unique prefix)')
      .option('--force', 'also stop the bootstrap agent (the daemon then refuses goals until it restarts)'),
  ).action((id: string, opts: DaemonFlags & { force?: boolean }) =>
    withDaemon(opts, async (client) => {
      // resolved first: a prefix that fits an agent and a run stops nothing
      const found = await resolveTarget(client, id);
      if ('agent' in found) {
        const res = await client.call<{ agent_id: string }>('agent.stop', {
          agent_id: found.agent.id,
          ...(opts.force ? { force: true } : {}),
        });
        if (opts.json) printJson(res);
        else process.stdout.write(`stopped agent ${res.agent_id}\n`);
        return ExitCode.OK;
      }
      const res = await client.call<{ run_id: string; state: string; cancelled: boolean }>('run.cancel', {
        run_id: found.run.run_id,
      });
      if (opts.json) printJson(res);
      else
        process.stdout.write(
          res.cancelled ? `cancelling run ${res.run_id}\n` : `run ${res.run_id} had already ended (${res.state})\n`,
        );
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code)),
  );

  addDaemonOptions(program.command('tools').description('list the tools the daemon has')).action((opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const { tools, mcp_servers: servers = [] } = await client.call<{
        tools: Array<{ name: string; description: string }>;
        mcp_servers?: Array<{
          server: string;
          transport: string;
          state: string;
          tools: string[];
          error: string | null;
        }>;
      }>('tool.list');
      if (opts.json) printJson(tools);
      else {
        process.stdout.write(
          `${table(
            ['TOOL', 'DESCRIPTION'],
            tools.map((t) => [t.name, truncate(t.description, 90)]),
          )}\n`,
        );
        // MCP servers that are down have no tools listed above: say which and why
        if (servers.length > 0) {
          const rows = servers.map((s) => [
            s.server,
            s.transport,
            s.state,
            String(s.tools.length),
            truncate(s.error ?? '', 70),
          ]);
          process.stdout.write(`\n${table(['MCP SERVER', 'TRANSPORT', 'STATE', 'TOOLS', 'ERROR'], rows)}\n`);
        }
      }
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code)),
  );

  addDaemonOptions(
    program
      .command('revoke')
      .description('revoke one capability token of an agent, or all of them (list them with --list)')
      .argument('<agent>', 'agent id or name')
      .argument('[token]', 'token id (cap_…)')
      .option('--all', 'revoke every token of the agent')
      .option('--list', "show the agent's tokens instead of revoking"),
  ).action((agent: string, token: string | undefined, opts: DaemonFlags & { all?: boolean; list?: boolean }) => {
    if (!opts.list && (token === undefined) === (opts.all !== true)) {
      return usageError('revoke', 'give a token id or --all (or --list to see the tokens), not both');
    }
    return withDaemon(opts, async (client) => {
      if (opts.list) {
        const { tokens } = await client.call<{
          tokens: Array<{ id: string; capability: unknown; revoked_at?: number; invocation_count: number }>;
        }>('capability.list', { agent_id: agent });
        if (opts.json) printJson(tokens);
        else {
          const rows = tokens.map((t) => [
            t.id,
            t.revoked_at ? 'revoked' : 'live',
            String(t.invocation_count),
            truncate(JSON.stringify(t.capability), 70),
          ]);
          process.stdout.write(`${table(['TOKEN', 'STATE', 'USED', 'CAPABILITY'], rows)}\n`);
        }
        return ExitCode.OK;
      }
      const res = await client.call<{ agent_id: string; revoked: number }>('capability.revoke', {
        agent_id: agent,
        ...(opts.all ? { all: true } : { token_id: token }),
      });
      if (opts.json) printJson(res);
      else process.stdout.write(`revoked ${res.revoked} token(s) of agent ${res.agent_id}\n`);
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code));
  });
}
