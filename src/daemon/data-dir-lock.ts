import { spawnSync } from 'node:child_process';
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AaosError, ErrorCode } from '../errors/index.js';

const LOCK_FILE = 'agentd.lock';
/** what `flock --conflict-exit-code` returns when another process holds the lock */
const CONFLICT = 75;

export interface DataDirLock {
  readonly path: string;
  /** Releases the lock (the kernel does it anyway when the process ends). */
  release(): void;
}

/**
 * Makes this process the one owner of `dataDir`: an exclusive flock(2) on
 * `<dataDir>/agentd.lock`, with our pid written inside.
 *
 * Node has no flock, so the lock is taken by util-linux `flock` on a descriptor this
 * process opened and hands to it as fd 3. A flock belongs to the open file description,
 * not to the process that called it: when `flock` exits, our descriptor still refers to
 * the locked description, so the lock is ours until this process closes it or dies —
 * then the kernel releases it (kill -9 included). The descriptor is close-on-exec
 * (libuv opens every file that way), so nothing this process starts inherits the lock.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  const path = join(dataDir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o640);
  } catch (err) {
    throw new AaosError(
      ErrorCode.DATA_DIR_IN_USE,
      `cannot open the data dir lock ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const res = spawnSync('flock', ['--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    closeSync(fd);
    if (res.status === CONFLICT) {
      const pid = ownerPid(path);
      throw new AaosError(
        ErrorCode.DATA_DIR_IN_USE,
        `data dir in use by pid ${pid ?? 'unknown'}: ${dataDir} is locked (${path}); stop that agentd first`,
        {
          path,
          data_dir: dataDir,
          ...(pid !== undefined ? { pid } : {}),
        },
      );
    }
    const why = res.error
      ? `${res.error.message} (the flock command of util-linux is needed)`
      : `flock exited with ${res.status}: ${res.stderr.trim()}`;
    throw new AaosError(ErrorCode.DATA_DIR_IN_USE, `cannot lock the data dir ${dataDir} (${path}): ${why}`, {
      path,
      data_dir: dataDir,
    });
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}

/** The pid the owner wrote; it may still be writing it, so look a few times. */
function ownerPid(path: string): number | undefined {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch {
      return undefined;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return undefined;
}
