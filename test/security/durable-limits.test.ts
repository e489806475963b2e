import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { type RawClient, tempDataDir } from '../daemon/daemon-process.js';
import { auditEvents, daemonWith, TestLeftovers, manifest, script, waitForAudit } from './attacker.js';

/** Class 2, continued: revocations and counters survive a restart; budgets hold under a fan-out. */
describe('limits that must hold across restarts and concurrency', () => {
  const left = new TestLeftovers();
  afterEach(() => left.clean());

  async function errorOf(client: RawClient, method: string, params: unknown): Promise<string> {
    const res = await client.response<{ result?: unknown; error?: { data?: { code?: string } } }>(
      client.send(method, params),
    );
    return res.error?.data?.code ?? 'ok';
  }

  it("a persistent agent's revoked token stays revoked and its max_invocations count survives a restart", async () => {
    const dir = tempDataDir();
    left.dirs.push(dir);
    let started = await daemonWith(dir);
    left.daemon = started.daemon;
    const yaml = stringify({
      name: 'keeper',
      model: `scripted:${script(dir, 'keeper', [{ text: 'idle' }])}`,
      lifecycle: 'persistent',
      capabilities: [
        { capability: 'tool: echo', max_invocations: 2 },
        'tool: file_write',
        `file_write: ${dir}/workspace/*`,
      ],
    });
    const { agent_id } = await started.client.call<{ agent_id: string }>('agent.spawn', { manifest: yaml });
    expect(await errorOf(started.client, 'tool.invoke', { agent_id, tool: 'echo', input: { message: 'one' } })).toBe(
      'ok',
    );
    const { tokens } = await started.client.call<{
      tokens: Array<{ id: string; capability: { kind: string; name?: string } }>;
    }>('capability.list', { agent_id });
    const writeTool = tokens.find((t) => t.capability.kind === 'tool' && t.capability.name === 'file_write')!;
    await started.client.call('capability.revoke', { agent_id, token_id: writeTool.id });
    await left.daemon.stop();

    started = await daemonWith(dir);
    left.daemon = started.daemon;
    const write = {
      agent_id,
      tool: 'file_write',
      input: { path: join(dir, 'workspace', 'after-restart.txt'), content: 'x' },
    };
    expect(await errorOf(started.client, 'tool.invoke', write)).toBe('AAOS_ERR_CAPABILITY_REVOKED');
    // one of the two echo uses was spent before the restart
    expect(await errorOf(started.client, 'tool.invoke', { agent_id, tool: 'echo', input: { message: 'two' } })).toBe(
      'ok',
    );
    expect(await errorOf(started.client, 'tool.invoke', { agent_id, tool: 'echo', input: { message: 'three' } })).toBe(
      'AAOS_ERR_CAPABILITY_EXHAUSTED',
    );
  }, 120_000);

  it("16 children started at once by one spawn_agents spend at most the parent budget plus one call's output", async () => {
    const dir = tempDataDir();
    left.dirs.push(dir);
    mkdirSync(join(dir, 'scripts'));
    const maxOutput = 1000;
    const budget = 4000;
    const started = await daemonWith(dir, { AAOS_MAX_OUTPUT_TOKENS: String(maxOutput) });
    left.daemon = started.daemon;
    const childScript = join(dir, 'scripts', 'spender.yaml');
    // every child call really uses its whole output allowance, and they overlap in time
    writeFileSync(
      childScript,
      stringify({ latency_ms: 300, turns: [{ text: 'spent', usage: { input_tokens: 10, output_tokens: maxOutput } }] }),
    );
    const children = Array.from({ length: 16 }, (_, i) => ({
      manifest: stringify({ name: `spender-${i}`, model: `scripted:${childScript}`, system_prompt: 'spend' }),
      message: 'spend',
    }));
    const parentTurns = [
      { tool_calls: [{ name: 'spawn_agents', input: { children } }], usage: { input_tokens: 1, output_tokens: 1 } },
      { text: 'RESULT {last_tool_result:failed}', usage: { input_tokens: 1, output_tokens: 1 } },
    ];
    const parent = manifest(
      'fanner',
      script(dir, 'fanner', parentTurns),
      ['tool: spawn_agents', 'spawn_child: [*]', `file_read: ${dir}/scripts/*`],
      {
        budget_config: { max_tokens: budget },
      },
    );
    const { agent_id } = await started.client.call<{ agent_id: string }>('agent.spawn', { manifest: parent });
    await started.client.response(started.client.send('agent.run', { agent_id, message: 'fan out' }));
    await waitForAudit(dir, (e) => e.type === 'AgentExecutionCompleted' && e.agent_id === agent_id, 'the parent run');
    const spent = auditEvents(dir)
      .filter((e) => e.type === 'UsageReported' && (e.agent_id === agent_id || e['parent_id'] === agent_id))
      .reduce((sum, e) => sum + Number(e['input_tokens']) + Number(e['output_tokens']), 0);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(budget + maxOutput);
    // the rest were refused before any call was made, and said so
    expect(auditEvents(dir).filter((e) => e.type === 'BudgetExceeded').length).toBeGreaterThan(0);
  }, 120_000);
});
