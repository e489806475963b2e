import type { Command } from 'commander';
import { addDaemonOptions, printJson, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { duration } from '../format.js';

interface Health {
  status: string;
  problems?: string[];
  version: string;
  pid: number;
  uptime_ms: number;
  agents: number;
  bootstrap_agent_id: string | null;
  runs: { running: number; queued: number };
  approvals_pending: number;
  provider: string;
  store?: { write_failures: number; audit_events_unstored: number };
}

/** `agentd health`: exit 0 when the daemon answers and is not shutting down (the container HEALTHCHECK). */
export function registerHealth(program: Command): void {
  addDaemonOptions(
    program
      .command('health')
      .description(
        'check that the daemon answers; exit 0 if healthy, 1 if degraded or draining (the reasons are printed), 3 if unreachable',
      ),
  ).action((opts: DaemonFlags) =>
    withDaemon(opts, async (client) => {
      const h = await client.call<Health>('system.health');
      if (opts.json) printJson(h);
      else {
        const lines = [
          `${h.status} — agentd ${h.version}, pid ${h.pid}, up ${duration(h.uptime_ms)}`,
          `agents ${h.agents}${h.bootstrap_agent_id ? ` (bootstrap ${h.bootstrap_agent_id})` : ' (no bootstrap agent)'}`,
          `runs ${h.runs.running} running, ${h.runs.queued} queued; approvals pending ${h.approvals_pending}`,
          h.provider,
          ...(h.problems ?? []).map((p) => `problem: ${p}`),
          ...(h.store && h.store.audit_events_unstored > 0
            ? [`audit events that could not be stored: ${h.store.audit_events_unstored}`]
            : []),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return h.status === 'ok' ? ExitCode.OK : ExitCode.FAILED;
    }).then((code) => void (process.exitCode = code)),
  );
}
