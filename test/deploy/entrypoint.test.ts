import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../daemon/daemon-process.js';

/**
 * The image's entrypoint run on this machine, with a stand-in `agentd` that reports who it
 * runs as: what a root-owned bind mount gets, and that root is really dropped. Needs root
 * (as the container does); the container check (npm run container-check) runs it in the image.
 */
const ENTRYPOINT = join(ROOT, 'deploy', 'docker', 'entrypoint.sh');
const asRoot = process.getuid?.() === 0;

let dir: string;
let bin: string;
let data: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aaos-entry-'));
  chmodSync(dir, 0o755);
  bin = join(dir, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  // reports uid, gid, groups, effective capabilities, no_new_privs and its arguments
  writeFileSync(
    join(bin, 'agentd'),
    "#!/bin/sh\necho \"uid=$(id -u) gid=$(id -g) groups=$(id -G) $(grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr -s '\\t\\n' '  ')args=$*\"\n",
    { mode: 0o755 },
  );
  data = join(dir, 'data');
  mkdirSync(data, { mode: 0o755 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function entry(args: string[], opts: { asUser?: number } = {}) {
  const env = { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, AAOS_DATA_DIR: data };
  const cmd =
    opts.asUser === undefined
      ? ['sh', ENTRYPOINT, ...args]
      : ['setpriv', `--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--clear-groups', 'sh', ENTRYPOINT, ...args];
  return spawnSync(cmd[0]!, cmd.slice(1), { env, encoding: 'utf8' });
}

describe.skipIf(!asRoot)('the container entrypoint (deploy/docker/entrypoint.sh)', () => {
  it('gives a root-owned data dir to uid 1000, then starts agentd as uid 1000 with no capabilities and no_new_privs', () => {
    mkdirSync(join(data, 'inbox'));
    writeFileSync(join(data, 'inbox', 'notes.md'), 'from the host\n');
    const res = entry(['run', '--http', '127.0.0.1:8787']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe(
      'uid=1000 gid=1000 groups=1000 CapEff: 0000000000000000 NoNewPrivs: 1 args=run --http 127.0.0.1:8787',
    );
    expect(res.stderr).toContain(`gave 3 entries of ${data} to uid 1000`);
    for (const p of [data, join(data, 'inbox'), join(data, 'inbox', 'notes.md')]) expect(statSync(p).uid, p).toBe(1000);
  });

  it('changes the owner of a symbolic link, never of what it points to, and says nothing when all is in order', () => {
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'root stays the owner\n');
    symlinkSync(outside, join(data, 'link'));
    expect(entry(['run']).status).toBe(0);
    expect(lstatSync(join(data, 'link')).uid).toBe(1000);
    expect(statSync(outside).uid).toBe(0);
    const again = entry(['run']);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
  });

  it('started as uid 1000 (--user), changes nothing and stops with what to do when the data dir is not writable', () => {
    const res = entry(['run'], { asUser: 1000 });
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(`${data} is not writable by uid 1000 (it belongs to uid 0)`);
    expect(res.stderr).toContain('chown -R 1000:1000');
    expect(statSync(data).uid).toBe(0);
  });

  it('started as uid 1000 on a data dir of its own, runs agentd directly', () => {
    spawnSync('chown', ['1000:1000', data]);
    const res = entry(['health'], { asUser: 1000 });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^uid=1000 gid=1000 .*args=health$/m);
  });
});
