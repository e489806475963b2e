import { ExitCode } from './exit-codes.js';

const BROKEN = new Set(['EPIPE', 'ECONNRESET']);
let installed = false;

/**
 * For client commands: stdout piped into a reader that went away (`agentd logs | head`)
 * ends the command with exit 3 and one line instead of a stack trace. (The daemon
 * socket's own EPIPE and resets are handled by DaemonClient: DAEMON_UNREACHABLE, exit 3.)
 * Other errors keep Node's default behaviour.
 */
export function exitQuietlyOnBrokenPipe(): void {
  if (installed) return;
  installed = true;
  const onError = (err: unknown): void => {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code && BROKEN.has(code)) {
      try {
        process.stderr.write(`agentd: the connection was closed (${code})\n`);
      } catch {
        // stderr may be the broken pipe
      }
      process.exit(ExitCode.UNREACHABLE);
    }
    throw err;
  };
  process.stdout.on('error', onError);
}
