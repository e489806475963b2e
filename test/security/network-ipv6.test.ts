import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir, type DaemonProcess, type RawClient } from '../daemon/daemon-process.js';
import { daemonWith, manifest, script, spawnAndRun, toolThenReport } from './attacker.js';

/** Class 8: IPv6 literals in network grants work (and still only for the host they name). */
describe('IPv6 literals in network: grants', () => {
  let dir: string;
  let daemon: DaemonProcess;
  let client: RawClient;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    dir = tempDataDir();
    server = createServer((_req, res) => res.end('hello over ipv6'));
    await new Promise<void>((r) => server.listen(0, '::1', r));
    port = (server.address() as AddressInfo).port;
    ({ daemon, client } = await daemonWith(dir));
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    server?.close();
    removeDir(dir);
  });

  async function fetchWith(name: string, grant: string): Promise<string> {
    const turns = toolThenReport([{ name: 'web_fetch', input: { url: `http://[::1]:${port}/` } }]);
    return (await spawnAndRun(client, manifest(name, script(dir, name, turns), ['tool: web_fetch', grant]))).response;
  }

  it.each([
    ['bracketed', 'network: [::1]'],
    ['a URL with a port', 'network: http://[::1]:8080/'],
    ['a bare literal', 'network: ::1'],
    ['an uncompressed literal', 'network: [0:0:0:0:0:0:0:1]'],
    ['in a list', 'network: [[::1], example.com]'],
  ])(
    'a grant written %s allows the host',
    async (label, grant) => {
      const response = await fetchWith(`v6-${label.replaceAll(' ', '-')}`, grant);
      expect(response).toContain('hello over ipv6');
    },
    60_000,
  );

  it('another IPv6 host is still denied', async () => {
    const response = await fetchWith('v6-other', 'network: [::2]');
    expect(response).toContain('AAOS_ERR_CAPABILITY_DENIED');
    expect(response).not.toContain('hello over ipv6');
  }, 60_000);
});
