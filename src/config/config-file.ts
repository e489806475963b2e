import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AaosError, ErrorCode } from '../errors/index.js';
import { Config, readSetting, type ConfigFileValues, type EnvRecord } from './config.js';
import { homedir } from 'node:os';

const CONFIG_FILE_NAME = 'agentd.yaml';

/** A YAML mapping of settings; a missing file is undefined unless `required` (given with --config). */
function readConfigFile(path: string, required: boolean): ConfigFileValues | undefined {
  const file = resolve(path);
  if (!existsSync(file)) {
    if (!required) return undefined;
    throw new AaosError(ErrorCode.CONFIG_INVALID, `config file ${file} does not exist`, { file });
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
      { file },
    );
  }
  if (doc === null || doc === undefined) return { file, values: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new AaosError(
      ErrorCode.CONFIG_INVALID,
      `config file ${file} must be a mapping of settings (e.g. max_agents: 50)`,
      { file },
    );
  }
  return { file, values: doc as Record<string, unknown> };
}

/** AAOS_DATA_DIR, else $XDG_DATA_HOME/aaos, else ~/.local/share/aaos. */
export function dataDirFrom(env: EnvRecord): string {
  const dataDir = readSetting(env, 'AAOS_DATA_DIR');
  if (dataDir) return dataDir;
  const xdg = readSetting(env, 'XDG_DATA_HOME');
  return xdg ? join(xdg, 'aaos') : join(homedir(), '.local', 'share', 'aaos');
}

/**
 * The settings `agentd run` starts with: the environment over `--config FILE` (or, without
 * it, `<data dir>/agentd.yaml` when it exists) over the defaults, parsed once.
 */
export function loadStartConfig(
  flags: { config?: string; dataDir?: string },
  env: EnvRecord,
): { config: Config; dataDir: string; file: string | undefined } {
  let file: ConfigFileValues | undefined;
  if (flags.config) file = readConfigFile(flags.config, true);
  else {
    const dataDir = flags.dataDir ? resolve(flags.dataDir) : dataDirFrom(env);
    file = readConfigFile(join(dataDir, CONFIG_FILE_NAME), false);
  }
  const config = Config.load({ env, ...(file ? { file } : {}) });
  const dataDir = flags.dataDir ? resolve(flags.dataDir) : dataDirFrom(config.env);
  return { config, dataDir, file: file?.file };
}
