import { join } from 'node:path';
import { readSetting, type EnvRecord } from '../config/config.js';
import { dataDirFrom } from '../config/config-file.js';

/** Data dir: --data-dir, else AAOS_DATA_DIR, else $XDG_DATA_HOME/aaos, else ~/.local/share/aaos. */
export function defaultDataDir(env: EnvRecord = process.env): string {
  return dataDirFrom(env);
}

/** Socket: --socket, else AAOS_SOCKET, else <data dir>/run/agentd.sock. */
export function defaultSocketPath(dataDir: string, env: EnvRecord = process.env): string {
  return readSetting(env, 'AAOS_SOCKET') ?? join(dataDir, 'run', 'agentd.sock');
}
