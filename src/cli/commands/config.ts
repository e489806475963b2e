import type { Command } from 'commander';
import { defaultLabel, type SettingOrigin } from '../../config/config.js';
import { loadStartConfig } from '../../config/config-file.js';
import { toPlainError } from '../../errors/index.js';
import { ExitCode } from '../exit-codes.js';
import { printJson } from '../daemon-options.js';
import { table } from '../format.js';

function originText(origin: SettingOrigin): string {
  return origin.from === 'file' ? `file ${origin.file}` : origin.from;
}

function valueText(value: unknown): string {
  if (value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.join(':');
  return String(value);
}

/** `agentd config`: the settings `agentd run` would start with, and where each came from. */
export function registerConfig(program: Command): void {
  program
    .command('config')
    .description(
      'print the effective settings (environment over the config file over defaults) and where each came from; keys are masked',
    )
    .option('--config <file>', 'settings file (default: <data dir>/agentd.yaml if present)')
    .option('--data-dir <dir>', 'the data dir whose agentd.yaml to read (env AAOS_DATA_DIR)')
    .option('--json', 'print the settings as JSON')
    .action((opts: { config?: string; dataDir?: string; json?: boolean }) => {
      let loaded;
      try {
        loaded = loadStartConfig(opts, process.env);
      } catch (err) {
        const plain = toPlainError(err);
        process.stderr.write(`agentd: ${plain.code}: ${plain.message}\n`);
        process.exitCode = ExitCode.FAILED;
        return;
      }
      const rows = loaded.config.describe();
      if (opts.json) {
        printJson({
          data_dir: loaded.dataDir,
          file: loaded.file ?? null,
          settings: rows.map((r) => ({
            name: r.name,
            value: r.value ?? null,
            origin: r.origin,
            default: defaultLabel(r.name),
          })),
        });
        return;
      }
      process.stdout.write(`data dir ${loaded.dataDir}; config file ${loaded.file ?? '(none)'}\n`);
      process.stdout.write(
        `${table(
          ['SETTING', 'VALUE', 'FROM'],
          rows.map((r) => [r.name, valueText(r.value), originText(r.origin)]),
        )}\n`,
      );
    });
}
