import type { Command } from 'commander';
import type { PendingApproval } from '../../approvals/approval-queue.js';
import { STREAM_FRAME_VERSION } from '../../daemon/streams.js';
import type { StreamFrame } from '../client.js';
import { addDaemonOptions, printJson, withDaemon, type DaemonFlags } from '../daemon-options.js';
import { ExitCode } from '../exit-codes.js';
import { FramePrinter } from '../frame-printer.js';
import { table, truncate } from '../format.js';
import { usageError } from '../usage.js';

function pendingTable(pending: PendingApproval[]): string {
  if (pending.length === 0) return 'no pending approvals';
  return table(
    ['ID', 'AGENT', 'TOOL', 'REQUESTED', 'INPUT'],
    pending.map((a) => [a.id, a.agent_name, a.tool, a.requested_at, truncate(JSON.stringify(a.input) ?? '', 60)]),
  );
}

export function registerApprovals(program: Command): void {
  addDaemonOptions(
    program
      .command('approvals')
      .description('list tool calls waiting for a human (--watch: keep printing new ones)')
      .option('-w, --watch', 'keep watching for new requests and answers (Ctrl-C stops)'),
  ).action((opts: DaemonFlags & { watch?: boolean }) =>
    withDaemon(opts, async (client) => {
      if (!opts.watch) {
        const { pending } = await client.call<{ pending: PendingApproval[] }>('approval.list');
        if (opts.json) printJson(pending);
        else process.stdout.write(`${pendingTable(pending)}\n`);
        return ExitCode.OK;
      }
      const printer = new FramePrinter(process.stdout, { json: opts.json === true });
      // frames that arrive with the answer wait until the snapshot is printed: it comes first
      let early: StreamFrame[] | undefined = [];
      const { result, id, ended } = await client.stream<{ pending: PendingApproval[] }>(
        'approval.watch_streaming',
        {},
        (f) => (early ? early.push(f) : printer.print(f)),
      );
      // the answer as a frame of its own, so every line has the one frame shape (docs/api.md)
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify({ v: STREAM_FRAME_VERSION, kind: 'snapshot', stream: id, pending: result.pending })}\n`,
        );
      else process.stdout.write(`${pendingTable(result.pending)}\n-- watching (Ctrl-C stops) --\n`);
      for (const f of early) printer.print(f);
      early = undefined;
      let stop!: () => void;
      const stopped = new Promise<'stopped'>((r) => (stop = () => r('stopped')));
      process.once('SIGINT', stop);
      const end = await Promise.race([ended, stopped]);
      return end === 'stopped' ? ExitCode.OK : ExitCode.UNREACHABLE;
    }).then((code) => void (process.exitCode = code)),
  );

  addDaemonOptions(
    program
      .command('approve')
      .description('approve a pending tool call (--minutes N: also approve that agent+tool for N minutes)')
      .argument('<id>', 'approval id (from agentd approvals)')
      .option('--minutes <n>', 'a standing approval for the same agent and tool, for N minutes'),
  ).action((id: string, opts: DaemonFlags & { minutes?: string }) => {
    const minutes = opts.minutes === undefined ? undefined : Number(opts.minutes);
    if (minutes !== undefined && !(Number.isFinite(minutes) && minutes > 0)) {
      return usageError('approve', `--minutes must be a positive number, got '${opts.minutes}'`);
    }
    return withDaemon(opts, async (client) => {
      const res = await client.call('approval.respond', {
        id,
        decision: 'approve',
        ...(minutes !== undefined ? { scope: { minutes } } : {}),
      });
      if (opts.json) printJson(res);
      else
        process.stdout.write(
          `approved ${id}${minutes !== undefined ? ` (and the same agent+tool for ${minutes} min)` : ''}\n`,
        );
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code));
  });

  addDaemonOptions(
    program
      .command('deny')
      .description('deny a pending tool call')
      .argument('<id>', 'approval id (from agentd approvals)')
      .option('--reason <text>', 'why; the agent sees it'),
  ).action((id: string, opts: DaemonFlags & { reason?: string }) =>
    withDaemon(opts, async (client) => {
      const res = await client.call('approval.respond', {
        id,
        decision: 'deny',
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      if (opts.json) printJson(res);
      else process.stdout.write(`denied ${id}\n`);
      return ExitCode.OK;
    }).then((code) => void (process.exitCode = code)),
  );
}
