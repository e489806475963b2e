/** Process exit codes of every `agentd` command (documented in docs/cli.md). */
export const ExitCode = {
  OK: 0,
  /** a run did not complete, or the daemon refused the operation */
  FAILED: 1,
  /** bad command line */
  USAGE: 2,
  /** no daemon answers on the socket */
  UNREACHABLE: 3,
  /** `run --stdin` interrupted by SIGINT / SIGTERM (128 + signal number, as shells report it) */
  SIGINT: 130,
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
