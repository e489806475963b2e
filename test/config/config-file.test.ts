import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/config/config.js';
import { loadStartConfig } from '../../src/config/config-file.js';
import { ErrorCode } from '../../src/errors/index.js';
import { removeDir } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

describe('agentd.yaml', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'aaos-'));
  afterAll(() => removeDir(dir));

  it('is found in the data dir; the environment overrides it; each value knows its origin', () => {
    writeFileSync(join(dir, 'agentd.yaml'), 'max_agents: 7\nAAOS_PARK_IDLE_MS: 0\nskills_dir: [/a, /b]\n');
    const { config, file } = loadStartConfig({ dataDir: dir }, { AAOS_PARK_IDLE_MS: '5' });
    expect(file).toBe(join(dir, 'agentd.yaml'));
    expect(config.get('AAOS_MAX_AGENTS')).toBe(7);
    expect(config.origin('AAOS_MAX_AGENTS')).toEqual({ from: 'file', file: join(dir, 'agentd.yaml') });
    expect(config.get('AAOS_PARK_IDLE_MS')).toBe(5);
    expect(config.origin('AAOS_PARK_IDLE_MS')).toEqual({ from: 'env' });
    expect(config.get('AAOS_SKILLS_DIR')).toEqual(['/a', '/b']);
    // code that reads by name sees the file's values too
    expect(config.env['AAOS_MAX_AGENTS']).toBe('7');
  });

  it('rejects unknown keys (did you mean) and bad values, naming the file', () => {
    expect(() =>
      Config.load({ env: {}, file: { file: '/x/agentd.yaml', values: { max_agnts: 3, worker_nice: 40 } } }),
    ).toThrowError(
      expect.objectContaining({
        code: ErrorCode.CONFIG_INVALID,
        message: expect.stringMatching(
          /max_agnts="3" \(in \/x\/agentd.yaml\) is invalid: not a setting \(did you mean 'max_agents'\?\).*AAOS_WORKER_NICE="40" \(in \/x\/agentd.yaml\) is invalid/,
        ),
      }),
    );
  });

  it('--config must exist and be a mapping', () => {
    expect(() => loadStartConfig({ config: join(dir, 'none.yaml') }, {})).toThrow(/does not exist/);
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    expect(() => loadStartConfig({ config: join(dir, 'list.yaml') }, {})).toThrow(/must be a mapping/);
  });

  it('agentd config prints each effective value and where it came from, keys masked', async () => {
    const d = mkdtempSync(join(dir, 'c-'));
    writeFileSync(join(d, 'agentd.yaml'), 'max_agents: 7\nanthropic_api_key: sk-very-secret\n');
    const res = await runAgentd(['config', '--data-dir', d], { env: { AAOS_WORKER_NICE: '3', ANTHROPIC_API_KEY: '' } });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`AAOS_MAX_AGENTS +7 +file ${join(d, 'agentd.yaml')}`));
    expect(res.stdout).toMatch(/AAOS_WORKER_NICE +3 +env/);
    expect(res.stdout).toMatch(/AAOS_MAX_SPAWN_DEPTH +5 +default/);
    expect(res.stdout).toMatch(/ANTHROPIC_API_KEY +\(set\)/);
    expect(res.stdout).not.toContain('sk-very-secret');
    const bad = await runAgentd(['config', '--data-dir', d], { env: { AAOS_MAX_AGENTS: 'x' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('AAOS_MAX_AGENTS="x" is invalid');
  });
});
