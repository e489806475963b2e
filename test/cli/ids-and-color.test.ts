import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ambiguous, byIdPrefix } from '../../src/daemon/id-resolve.js';
import { ErrorCode } from '../../src/errors/index.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTD, RawClient, useDaemon, writerManifest } from '../daemon/daemon-process.js';
import { runAgentd } from '../support/run-agentd.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('short ids', () => {
  it('a unique prefix resolves; several matches list every candidate; too short never matches', () => {
    const runs = [
      { id: 'abcd1234-0000', label: 'completed: one' },
      { id: 'abcd5678-0000', label: 'failed: two' },
      { id: 'ef012345-0000', label: 'running: three' },
    ];
    expect(byIdPrefix('run', 'ef01', runs)).toBe('ef012345-0000');
    expect(byIdPrefix('run', 'abcd1', runs)).toBe('abcd1234-0000');
    expect(byIdPrefix('run', 'zzzz', runs)).toBeUndefined();
    expect(byIdPrefix('run', 'ef0', runs)).toBeUndefined();
    expect(() => byIdPrefix('run', 'abcd', runs)).toThrowError(
      expect.objectContaining({
        code: ErrorCode.ID_AMBIGUOUS,
        message:
          "prefix 'abcd' matches 2 runs: abcd1234-0000 (completed: one), abcd5678-0000 (failed: two); give more of the id",
      }),
    );
    expect(
      ambiguous(
        'agent',
        'worker',
        [
          { id: 'a1', label: 'worker' },
          { id: 'b2', label: 'worker' },
        ],
        'name',
      ).message,
    ).toContain("name 'worker' matches 2 agents");
  });
});

describe('agentd CLI: prefixes, names and colour', { timeout: 180_000 }, () => {
  const held = useDaemon();
  const daemon = {
    get socket(): string {
      return held.current.socket;
    },
  };

  it('status, logs and stop take a short run id; an agent by its name', async () => {
    const submitted = await runAgentd(['submit', 'a goal', '--json', '--socket', daemon.socket]);
    expect(submitted.code).toBe(0);
    const end = submitted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; run_id?: string })
      .find((f) => f.kind === 'end')!;
    const short = end.run_id!.slice(0, 8);
    const status = await runAgentd(['status', short, '--socket', daemon.socket]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`run ${end.run_id}`);
    const logs = await runAgentd(['logs', short, '--json', '--socket', daemon.socket]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain(end.run_id);
    const agent = await runAgentd(['status', 'bootstrap', '--socket', daemon.socket]);
    expect(agent.code).toBe(0);
    expect(agent.stdout).toMatch(/^agent [0-9a-f-]{36} \(bootstrap\)/);
    const none = await runAgentd(['status', 'ffffffff-nothing', '--socket', daemon.socket]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      "AAOS_ERR_RUN_NOT_FOUND: no agent or run with id, name or id prefix 'ffffffff-nothing'",
    );
  });

  it('approve and revoke take a unique prefix of an approval or token id too; an ambiguous one lists the candidates', async () => {
    const dir = held.current.dataDir;
    mkdirSync(join(dir, 'out'), { recursive: true });
    const client = await RawClient.open(daemon.socket);
    const { agent_id: agentId } = await client.call<{ agent_id: string }>('agent.spawn', {
      manifest: writerManifest(dir),
    });
    const run = client.call<{ response: string }>('agent.run', {
      agent_id: agentId,
      message: join(dir, 'out', 'prefixed.txt'),
    });
    let pending: Array<{ id: string }> = [];
    while (pending.length === 0) {
      pending = (await client.call<{ pending: Array<{ id: string }> }>('approval.list')).pending;
      await new Promise((r) => setTimeout(r, 100));
    }
    const approve = await runAgentd(['approve', pending[0]!.id.slice(0, 8), '--socket', daemon.socket]);
    expect(approve.code, approve.stderr).toBe(0);
    expect((await run).response).toContain('tool said');

    const { tokens } = await client.call<{ tokens: Array<{ id: string }> }>('capability.list', { agent_id: agentId });
    expect(tokens.length).toBeGreaterThan(1);
    const all = await runAgentd(['revoke', 'careful-writer', 'cap_', '--socket', daemon.socket]);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain(`AAOS_ERR_ID_AMBIGUOUS: prefix 'cap_' matches ${tokens.length} tokens`);
    const one = await runAgentd(['revoke', 'careful-writer', tokens[0]!.id.slice(0, 12), '--socket', daemon.socket]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('revoked 1 token(s)');
    client.close();
  });

  it('NO_COLOR and --no-color turn the live view colourless on a terminal', () => {
    const submit = (extra: string, env: NodeJS.ProcessEnv): string => {
      const cmd = `${quote(process.execPath)} ${quote(AGENTD)} submit 'colour check' --socket ${quote(daemon.socket)} ${extra}`;
      return spawnSync('script', ['-qec', cmd, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, TERM: 'xterm', ...env },
      }).stdout;
    };
    expect(submit('', { NO_COLOR: '' })).toContain('\u001b[');
    expect(submit('', { NO_COLOR: '1' })).not.toContain('\u001b[');
    const flagged = submit('--no-color', { NO_COLOR: '' });
    expect(flagged).not.toContain('\u001b[');
    expect(flagged).toMatch(/■ run completed/);
  });
});
