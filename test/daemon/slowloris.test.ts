import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, removeDir, startDaemon, tempDataDir, type DaemonProcess } from './daemon-process.js';

/**
 * A peer that trickles bytes (a byte, or a blank line, every half second) without ever
 * finishing a request is not "active": it must not keep its connection past the idle limit,
 * or a handful of them hold every slot (AAOS_MAX_CONNECTIONS) and the operator's
 * `agentd health` (the container's HEALTHCHECK) is refused.
 */
describe('slowloris: a connection that never completes a request', () => {
  let daemon: DaemonProcess | undefined;
  let dir: string | undefined;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    for (const s of sockets.splice(0)) s.destroy();
    await daemon?.stop();
    daemon = undefined;
    if (dir) removeDir(dir);
  });

  function trickle(path: string, bytes: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ path });
      sockets.push(s);
      s.on('error', () => {});
      s.once('connect', () => {
        timers.push(setInterval(() => s.writable && s.write(bytes), 500));
        resolve();
      });
      s.once('error', reject);
      s.on('close', () => resolve());
    });
  }

  function closedBy(s: Socket): Promise<void> {
    return new Promise((resolve) => (s.closed || s.destroyed ? resolve() : s.once('close', () => resolve())));
  }

  it('tricklers are closed after the idle limit and the slots come back', async () => {
    dir = tempDataDir();
    daemon = await startDaemon({
      dataDir: dir,
      bootstrap: null,
      env: { AAOS_CONNECTION_IDLE_MS: '1500', AAOS_MAX_CONNECTIONS: '6' },
    });
    for (let i = 0; i < 3; i++) await trickle(daemon.socket, '{');
    for (let i = 0; i < 3; i++) await trickle(daemon.socket, '\n');
    // every slot is taken by a trickler; the daemon must end each of them on its own
    await Promise.all(sockets.map(closedBy));
    // the server counts a slot free once its side of the socket is gone too: ask until then
    const deadline = Date.now() + 20_000;
    for (;;) {
      const client = await RawClient.open(daemon.socket);
      try {
        const health = await client.call<{ status: string }>('system.health');
        expect(health.status).toBeDefined();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        client.close();
      }
    }
  }, 60_000);
});
