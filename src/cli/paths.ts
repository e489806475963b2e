import { homedir } from 'node:os';
import { join } from 'node:path';
import { readSetting, type EnvRecord } from '../config/config.js';

/** Data dir: --data-dir, else AAOS_DATA_DIR, else $XDG_DATA_HOME/aaos, else ~/.local/share/aaos. */
export function defaultDataDir(env: EnvRecord = process.env): string {
  const dataDir = readSetting(env, 'AAOS_DATA_DIR');
  if (dataDir) return dataDir;
  const xdg = readSetting(env, 'XDG_DATA_HOME');
  if (xdg) return join(xdg, 'aaos');
  return join(homedir(), '.local', 'share', 'aaos');
}

/** Socket: --socket, else AAOS_SOCKET, else <data dir>/run/agentd.sock. */
export function defaultSocketPath(dataDir: string, env: EnvRecord = process.env): string {
  return readSetting(env, 'AAOS_SOCKET') ?? join(dataDir, 'run', 'agentd.sock');
}
