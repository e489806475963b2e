import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

describe('one owner per data dir', () => {
  const daemons: DaemonProcess[] = [];
  let dir: string | undefined;
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop();
    if (dir) removeDir(dir);
    dir = undefined;
  });

  it('a second daemon (another socket) and run --stdin are refused with the owner pid; the first keeps serving', async () => {
    dir = tempDataDir();
    const first = await startDaemon({ dataDir: dir });
    daemons.push(first);
    const pid = first.child.pid!;
    expect(readFileSync(join(dir, 'agentd.lock'), 'utf8').trim()).toBe(String(pid));

    const second = spawnSync(
      process.execPath,
      [AGENTD, 'run', '--bootstrap', BOOTSTRAP, '--data-dir', dir, '--socket', join(dir, 'other.sock')],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('AAOS_ERR_DATA_DIR_IN_USE');
    expect(second.stderr).toContain(`data dir in use by pid ${pid}`);
    expect(second.stderr).not.toContain('listening on');

    const stdin = spawnSync(process.execPath, [AGENTD, 'run', '--bootstrap', BOOTSTRAP, '--data-dir', dir, '--stdin'], {
      input: 'write a one-line hello report\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(stdin.status).toBe(1);
    expect(stdin.stderr).toContain(`data dir in use by pid ${pid}`);

    const client = await RawClient.open(first.socket);
    expect(await client.call('system.health')).toMatchObject({ status: 'ok', pid });
    client.close();
  });

  it('kill -9 of the owner releases the lock: the next daemon starts on the same dir', async () => {
    dir = tempDataDir();
    const first = await startDaemon({ dataDir: dir });
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();

    const next = await startDaemon({ dataDir: dir });
    daemons.push(next);
    expect(readFileSync(join(dir, 'agentd.lock'), 'utf8').trim()).toBe(String(next.child.pid));
    const client = await RawClient.open(next.socket);
    expect(await client.call('system.health')).toMatchObject({ status: 'ok', pid: next.child.pid });
    client.close();
    expect(await next.stop()).toBe(0);
    daemons.pop();

    // after an orderly stop too
    const third = await startDaemon({ dataDir: dir });
    daemons.push(third);
    expect(readFileSync(join(dir, 'agentd.lock'), 'utf8').trim()).toBe(String(third.child.pid));
  });
});
