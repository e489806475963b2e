import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EnvRecord } from '../config/config.js';
import { isAaosError, ErrorCode, toPlainError } from '../errors/index.js';
import { exitQuietlyOnBrokenPipe } from './broken-pipe.js';
import { DaemonClient, RemoteError } from './client.js';
import { ExitCode } from './exit-codes.js';
import { defaultDataDir, defaultSocketPath } from './paths.js';

/** Flags every command that talks to the daemon accepts. */
export interface DaemonFlags {
  socket?: string;
  dataDir?: string;
  json?: boolean;
}

export function addDaemonOptions(cmd: Command, opts: { json?: boolean } = { json: true }): Command {
  cmd
    .option('--socket <path>', 'the daemon socket (env AAOS_SOCKET; default <data dir>/run/agentd.sock)')
    .option('--data-dir <dir>', 'the daemon data dir, to find its default socket (env AAOS_DATA_DIR)');
  if (opts.json) cmd.option('--json', 'print the result as JSON');
  return cmd;
}

/** --socket, else AAOS_SOCKET, else <data dir>/run/agentd.sock (the daemon's own default). */
export function socketFromFlags(flags: DaemonFlags, env: EnvRecord = process.env): string {
  if (flags.socket) return resolve(flags.socket);
  if (flags.dataDir) return defaultSocketPath(resolve(flags.dataDir), { ...env, AAOS_SOCKET: '' });
  return defaultSocketPath(defaultDataDir(env), env);
}

function howToStart(socket: string): string {
  return [
    `agentd: no daemon is running on ${socket}.`,
    'Start one with:',
    `  agentd run --socket ${socket}            (the bundled bootstrap agent; --bootstrap FILE for your own)`,
    'or point this command at a running daemon with --socket PATH (or AAOS_SOCKET).',
  ].join('\n');
}

/** Prints an error the way every command does; returns the exit code it maps to. */
export function reportError(err: unknown, socket: string): number {
  if (isAaosError(err, ErrorCode.DAEMON_UNREACHABLE)) {
    // a daemon was there and the connection broke (EPIPE, reset, daemon stopping): one line
    if ((err.details as { closed?: unknown } | undefined)?.closed === true)
      process.stderr.write(`agentd: ${err.message}\n`);
    else process.stderr.write(`${howToStart(socket)}\n(${err.message})\n`);
    return ExitCode.UNREACHABLE;
  }
  if (err instanceof RemoteError) {
    process.stderr.write(`agentd: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return ExitCode.FAILED;
  }
  const plain = toPlainError(err);
  process.stderr.write(`agentd: ${plain.code}: ${plain.message}\n`);
  return ExitCode.FAILED;
}

/** Connects, runs `fn`, closes; maps every failure to a message and an exit code. */
export async function withDaemon(flags: DaemonFlags, fn: (client: DaemonClient) => Promise<number>): Promise<number> {
  exitQuietlyOnBrokenPipe();
  const socket = socketFromFlags(flags);
  let client: DaemonClient | undefined;
  try {
    client = await DaemonClient.connect(socket);
    return await fn(client);
  } catch (err) {
    return reportError(err, socket);
  } finally {
    client?.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
