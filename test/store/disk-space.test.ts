import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spaceGuard } from '../../src/store/disk-space.js';

describe('spaceGuard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-space-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const free = (): number => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };

  it('lets writes go ahead while the filesystem has more free space than the reserve', () => {
    expect(spaceGuard(dir, 1).shortage()).toBeUndefined();
  });

  it('names the free space, the reserve, the path and the setting when there is less', () => {
    const reserve = free() * 4;
    const shortage = spaceGuard(dir, reserve).shortage();
    expect(shortage).toMatch(new RegExp(`^only [0-9.]+ MiB free on the filesystem of ${dir}, below the reserve of`));
    expect(shortage).toContain('(AAOS_STORE_MIN_FREE_MB)');
  });

  it('a reserve of 0 is no guard at all', () => {
    expect(spaceGuard(join(dir, 'does-not-exist'), 0).shortage()).toBeUndefined();
  });

  it('a filesystem whose size cannot be read does not block writes (LMDB finds out itself)', () => {
    expect(spaceGuard(join(dir, 'does-not-exist'), Number.MAX_SAFE_INTEGER).shortage()).toBeUndefined();
  });

  it('near the reserve every check reads the disk afresh: a fill is refused at once, not after a reuse window', (ctx) => {
    // a real small filesystem (mounting needs root, which CI has)
    const mnt = mkdtempSync(join(tmpdir(), 'aaos-space-mnt-'));
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status !== 0) {
      rmSync(mnt, { recursive: true, force: true });
      ctx.skip('mounting a tmpfs is not permitted here (needs root)');
      return;
    }
    try {
      const t = 0; // the clock never moves: only a fresh read can see the change
      const guard = spaceGuard(mnt, 4 * 1024 * 1024, () => t);
      expect(guard.shortage()).toBeUndefined();
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(6 * 1024 * 1024, 1));
      expect(guard.shortage()).toMatch(/below the reserve of 4\.0 MiB/);
      rmSync(join(mnt, 'filler'));
      expect(guard.shortage()).toBeUndefined();
    } finally {
      spawnSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
