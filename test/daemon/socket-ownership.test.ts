import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AGENTD,
  BOOTSTRAP,
  RawClient,
  removeDir,
  startDaemon,
  tempDataDir,
  type DaemonProcess,
} from './daemon-process.js';

describe('who owns the socket', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    if (dir) removeDir(dir);
  });

  it('creates the socket 0660 in a 0750 directory', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir, socket: join(dir, 'sock', 'a.sock') });
    expect(lstatSync(daemon.socket).mode & 0o777).toBe(0o660);
    expect(statSync(join(dir, 'sock')).mode & 0o777).toBe(0o750);
  });

  it('a second daemon on the same socket exits non-zero with a clear error, and the first keeps serving', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({ dataDir: dir });
    const second = spawnSync(
      process.execPath,
      [AGENTD, 'run', '--bootstrap', BOOTSTRAP, '--data-dir', join(dir, 'other'), '--socket', daemon.socket],
      { encoding: 'utf8' },
    );
    expect(second.status).not.toBe(0);
    expect(second.stderr).toContain('AAOS_ERR_DAEMON_ALREADY_RUNNING');
    expect(second.stderr).toContain(`already listening on ${daemon.socket}`);
    const client = await RawClient.open(daemon.socket);
    expect(await client.call('system.health')).toMatchObject({ status: 'ok' });
    client.close();
  });

  it('replaces a stale socket file nobody answers on', async () => {
    dir = tempDataDir();
    const path = join(dir, 'stale.sock');
    // a listener killed with SIGKILL leaves its socket file behind
    const holder = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect(lstatSync(path).isSocket()).toBe(true);

    daemon = await startDaemon({ dataDir: dir, socket: path });
    const client = await RawClient.open(path);
    expect(await client.call('system.health')).toMatchObject({ status: 'ok' });
    client.close();
    expect(await daemon.stop()).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses to replace a file that is not a socket', () => {
    dir = tempDataDir();
    const path = join(dir, 'not-a.sock');
    writeFileSync(path, 'keep me');
    const res = spawnSync(
      process.execPath,
      [AGENTD, 'run', '--bootstrap', BOOTSTRAP, '--data-dir', dir, '--socket', path],
      { encoding: 'utf8' },
    );
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('is not a socket');
    expect(existsSync(path)).toBe(true);
  });
});
