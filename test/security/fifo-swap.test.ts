import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readVerifiedText } from '../../src/tools/fs/read-text.js';

/**
 * The read tools check a path (a regular file), then open it. A racing process that swaps
 * the file for a FIFO in between must not make the open wait for a writer: that would hold
 * one of libuv's four threads for ever, and a few such calls stall every file operation of
 * the supervisor. The open is what the race reaches, so it is tested directly: the walk
 * saw a file, the open finds a FIFO.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-fifo-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a FIFO swapped in after the check', () => {
  it('is refused at once, not waited on', async () => {
    const fifo = join(dir, 'swapped');
    execFileSync('mkfifo', [fifo]);
    const outcome = await Promise.race([
      readVerifiedText(fifo, undefined, 1024).then(
        () => 'read',
        (err: unknown) => `refused: ${(err as Error).message}`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting for a writer'), 10_000).unref()),
    ]);
    expect(outcome).toMatch(/^refused: .*not a regular file/);
  }, 30_000);
});
