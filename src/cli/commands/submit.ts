import type { Command } from 'commander';
import type { StreamFrame } from '../client.js';
import { addDaemonOptions, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { FramePrinter } from '../frame-printer.js';
import { usageError } from '../usage.js';

interface SubmitFlags extends DaemonFlags {
  cancel?: boolean;
  verbose?: boolean;
  plan?: boolean;
  orchestration?: string;
}

/**
 * `agentd submit "<goal>"`: queue a goal and watch it to its end. Exit 0 only for a
 * completed run. Ctrl-C detaches (the run goes on); with --cancel it cancels the run
 * and waits for its end (a second Ctrl-C detaches).
 */
function submitCommand(goal: string, flags: SubmitFlags): Promise<number> {
  return withDaemon(flags, async (client) => {
    const printer = new FramePrinter(process.stdout, { json: flags.json === true, verbose: flags.verbose === true });
    let runId: string | undefined;
    let cancelling = false;
    let detach!: () => void;
    const detached = new Promise<'detached'>((r) => (detach = () => r('detached')));
    const onSigint = (): void => {
      if (flags.cancel && !cancelling && runId) {
        cancelling = true;
        process.stderr.write(`\nagentd: cancelling run ${runId} (Ctrl-C again to detach)\n`);
        client.call('run.cancel', { run_id: runId }).catch(() => {});
        return;
      }
      detach();
    };
    process.on('SIGINT', onSigint);
    try {
      const orchestration = flags.plan ? 'plan' : flags.orchestration;
      const params = { goal, ...(orchestration ? { orchestration } : {}) };
      const { result, ended } = await client.stream<{ run_id: string; workspace: string }>(
        'agent.submit_streaming',
        params,
        (f: StreamFrame) => printer.print(f),
      );
      // the live view's first line (RunSubmitted) already names the run and its workspace
      runId = result.run_id;
      const outcome = await Promise.race([ended, detached]);
      if (outcome === 'detached') {
        process.stderr.write(
          `\nagentd: detached; run ${runId} goes on. Follow it with: agentd logs ${runId} --follow\n`,
        );
        return ExitCode.FAILED;
      }
      if (!outcome) {
        process.stderr.write(
          `agentd: the daemon closed the connection before run ${runId} ended; check it with: agentd status ${runId}\n`,
        );
        return ExitCode.UNREACHABLE;
      }
      return outcome['status'] === 'completed' ? ExitCode.OK : ExitCode.FAILED;
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

export function registerSubmit(program: Command): void {
  const cmd = program
    .command('submit')
    .description('submit a goal to the daemon and watch it live (exit 0 only when the run completes)')
    .argument('<goal>', 'the goal, in words')
    .option('--cancel', 'make Ctrl-C cancel the run instead of detaching from it')
    .option('-v, --verbose', 'show every event in the live view')
    .option('--plan', 'run the goal as a plan of subtasks over the role catalog (same as --orchestration plan)')
    .option(
      '--orchestration <mode>',
      "direct (the bootstrap agent), plan, or auto (one model call decides); default: the daemon's AAOS_ORCHESTRATION",
    );
  addDaemonOptions(cmd, { json: false });
  cmd.option('--json', 'print the stream frames as NDJSON instead of the live view');
  cmd.action(async (goal: string, opts: SubmitFlags) => {
    // `persistent` is aaOS's name for direct: accepted, not advertised
    if (opts.orchestration !== undefined && !['direct', 'plan', 'auto', 'persistent'].includes(opts.orchestration)) {
      return usageError('submit', `--orchestration must be direct, plan or auto, got '${opts.orchestration}'`);
    }
    process.exitCode = await submitCommand(goal, opts);
  });
}
