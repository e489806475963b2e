import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Data dir: --data-dir, else AAOS_DATA_DIR, else $XDG_DATA_HOME/aaos, else ~/.local/share/aaos. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['AAOS_DATA_DIR']) return resolve(env['AAOS_DATA_DIR']);
  if (env['XDG_DATA_HOME']) return join(resolve(env['XDG_DATA_HOME']), 'aaos');
  return join(homedir(), '.local', 'share', 'aaos');
}

/** Socket: --socket, else AAOS_SOCKET, else <data dir>/run/agentd.sock. */
export function defaultSocketPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env['AAOS_SOCKET']) return resolve(env['AAOS_SOCKET']);
  return join(dataDir, 'run', 'agentd.sock');
}
