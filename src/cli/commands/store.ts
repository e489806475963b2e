import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { open } from 'lmdb';
import { toPlainError } from '../../errors/index.js';
import { STORE_DBS } from '../../store/lmdb-env.js';
import { checkStoreFile } from '../../store/store-check.js';
import { ExitCode } from '../exit-codes.js';
import { defaultDataDir } from '../paths.js';

interface StoreFlags {
  dataDir?: string;
  compact?: boolean;
}

const fail = (message: string): number => {
  process.stderr.write(`agentd: ${message}\n`);
  return ExitCode.FAILED;
};

/**
 * `agentd store check`: the start-up check of the data file (size, both meta pages, last
 * page inside the file), then LMDB itself reads every record of every database. Safe
 * while the daemon runs (LMDB readers do not block its writer).
 */
async function storeCheckCommand(flags: StoreFlags): Promise<number> {
  const dataDir = resolve(flags.dataDir ?? defaultDataDir());
  const storeDir = join(dataDir, 'store');
  try {
    const report = checkStoreFile(dataDir, storeDir);
    if (report.state !== 'ok') {
      process.stdout.write(`${report.path}: no store yet (${report.state}); agentd run creates it\n`);
      return ExitCode.OK;
    }
    process.stdout.write(
      `${report.path}: ${report.size} bytes, LMDB format ${report.meta!.version}, page size ${report.meta!.pageSize}, transaction ${report.meta!.txnId}\n`,
    );
    const root = open({ path: storeDir, maxDbs: STORE_DBS.length + 4 });
    try {
      for (const name of STORE_DBS) {
        const db = root.openDB({ name });
        let records = 0;
        // reading every value makes LMDB walk every page and decode every record
        for (const { value } of db.getRange()) {
          if (value === undefined) throw new Error(`a record of ${name} has no value`);
          records++;
        }
        process.stdout.write(`  ${name}: ${records} record(s)\n`);
      }
    } finally {
      await root.close();
    }
    process.stdout.write('ok\n');
    return ExitCode.OK;
  } catch (err) {
    return fail(`store check failed: ${toPlainError(err).code}: ${toPlainError(err).message}`);
  }
}

/** `agentd store backup <dest>`: a consistent copy (LMDB's own copy, also while the daemon runs) into `<dest>/data.mdb`. */
async function storeBackupCommand(dest: string, flags: StoreFlags): Promise<number> {
  const dataDir = resolve(flags.dataDir ?? defaultDataDir());
  const storeDir = join(dataDir, 'store');
  const target = resolve(dest);
  try {
    const report = checkStoreFile(dataDir, storeDir);
    if (report.state !== 'ok') return fail(`nothing to back up: ${report.path} is ${report.state}`);
    mkdirSync(target, { recursive: true, mode: 0o700 });
    if (readdirSync(target).length > 0)
      return fail(`backup destination ${target} is not empty; give a new or empty directory`);
    const root = open({ path: storeDir, maxDbs: STORE_DBS.length + 4 });
    try {
      await root.backup(target, flags.compact === true);
    } finally {
      await root.close();
    }
    const copy = checkStoreFile(target, target);
    process.stdout.write(
      `backed up ${report.path} to ${copy.path} (${copy.size} bytes${flags.compact ? ', compacted' : ''})\n`,
    );
    return ExitCode.OK;
  } catch (err) {
    return fail(`store backup failed: ${toPlainError(err).code}: ${toPlainError(err).message}`);
  }
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('check or back up the LMDB store of a data dir');
  store
    .command('check')
    .description(
      'check the store: data file size and meta pages, then every record of every database; exit 1 naming the problem',
    )
    .option('--data-dir <dir>', 'the data dir (env AAOS_DATA_DIR)')
    .action(async (opts: StoreFlags) => {
      process.exitCode = await storeCheckCommand(opts);
    });
  store
    .command('backup')
    .description('copy the store (consistent, also while the daemon runs) to <dest>/data.mdb')
    .argument('<dest>', 'a new or empty directory')
    .option('--data-dir <dir>', 'the data dir (env AAOS_DATA_DIR)')
    .option('--compact', 'leave out free pages (slower, smaller)')
    .action(async (dest: string, opts: StoreFlags) => {
      process.exitCode = await storeBackupCommand(dest, opts);
    });
}
