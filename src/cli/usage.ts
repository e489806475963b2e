import { ExitCode } from './exit-codes.js';

/** A bad command line found after parsing (a flag's value): one line naming the command, exit 2. */
export function usageError(command: string, message: string): void {
  process.stderr.write(`agentd ${command}: ${message}\n`);
  process.exitCode = ExitCode.USAGE;
}
