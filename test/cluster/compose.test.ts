import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSettingName, SETTINGS } from '../../src/config/settings.js';
import { ROOT } from '../daemon/daemon-process.js';

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

// No Docker here: this checks that the compose file asks agentd for what agentd understands.
describe('deploy/cluster/compose.yaml', () => {
  const doc = parse(readFileSync(join(ROOT, 'deploy', 'cluster', 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };

  it('starts NATS with JetStream and three nodes joined to it, each with its own id and volume', () => {
    expect(doc.services['nats']!.command).toContain('-js');
    const nodes = Object.entries(doc.services).filter(([name]) => name !== 'nats');
    expect(nodes).toHaveLength(3);
    const ids = new Set<string>();
    const volumes = new Set<string>();
    for (const [name, svc] of nodes) {
      const cmd = svc.command ?? [];
      const url = cmd[cmd.indexOf('--cluster') + 1];
      expect(cmd.indexOf('--cluster'), name).toBeGreaterThan(0);
      expect(SETTINGS.AAOS_CLUSTER_URL.schema.safeParse(url).success, `${name}: ${url}`).toBe(true);
      for (const key of Object.keys(svc.environment ?? {})) expect(isSettingName(key), `${name}: ${key}`).toBe(true);
      ids.add(svc.environment?.['AAOS_NODE_ID'] ?? '');
      for (const v of svc.volumes ?? []) volumes.add(v);
    }
    expect(ids.size).toBe(3);
    expect(volumes.size).toBe(3);
  });
});
