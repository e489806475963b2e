import type { Command } from 'commander';
import type { ClusterStatus } from '../../cluster/cluster-node.js';
import { addDaemonOptions, printJson, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';

/** `agentd cluster status`: the nodes that heartbeat, their load, and the goals waiting or in flight. */
export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('the cluster this daemon joined (agentd run --cluster)');
  addDaemonOptions(
    cluster
      .command('status')
      .description(
        'nodes alive (by heartbeat), their load and free goal slots, goals waiting and in flight, where each agent lives',
      ),
  ).action((opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const s = await client.call<ClusterStatus>('cluster.status');
      if (opts.json) printJson(s);
      else {
        const lines = [
          `this node ${s.node_id}; ${s.nodes.length} node(s) alive; goals: ${s.goals_waiting} waiting, ${s.goals_in_flight} in flight`,
          ...s.nodes.map(
            (n) =>
              `  ${n.node_id}  pid ${n.pid}  agents ${n.live_agents}  free slots ${n.free_goal_slots}  load ${n.load.toFixed(2)}  running ${n.goals_running.length ? n.goals_running.join(', ') : '-'}  (beat ${n.at})`,
          ),
          `agents: ${s.agents.length}`,
          ...s.agents.map(
            (a) =>
              `  ${a.id}  ${a.name}  on ${a.node_id}${a.alive ? '' : ' (down)'}  ${a.lifecycle}  ${a.state}${a.parent_id ? `  parent ${a.parent_id}` : ''}`,
          ),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code)),
  );
}
