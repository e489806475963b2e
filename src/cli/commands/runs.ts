import { Option, type Command } from 'commander';
import { RunState, type RunRecord } from '../../store/run-store.js';
import { addDaemonOptions, printJson, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { table, truncate } from '../format.js';
import { usageError } from '../usage.js';

export function registerRuns(program: Command): void {
  addDaemonOptions(
    program
      .command('runs')
      .description('list goal runs, newest first')
      .addOption(new Option('--state <state>', 'only runs in this state').choices(RunState.options))
      .option('--limit <n>', 'at most this many runs (default 100)'),
  ).action((opts: DaemonFlags & { state?: string; limit?: string }) => {
    const limit = opts.limit === undefined ? undefined : Number(opts.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 10_000)) {
      return usageError('runs', `--limit must be a whole number from 1 to 10000, got '${opts.limit}'`);
    }
    return withDaemon(opts, async (client) => {
      const { runs } = await client.call<{ runs: RunRecord[] }>('run.list', {
        ...(opts.state ? { state: opts.state } : {}),
        ...(limit ? { limit } : {}),
      });
      if (opts.json) printJson(runs);
      else if (runs.length === 0) process.stdout.write('no runs\n');
      else
        process.stdout.write(
          `${table(
            ['RUN', 'STATE', 'CREATED', 'GOAL'],
            runs.map((r) => [r.run_id, r.state, r.created_at, truncate(r.goal, 60)]),
          )}\n`,
        );
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code));
  });
}
