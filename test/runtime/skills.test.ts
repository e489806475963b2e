import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { anthropicText, FakeAnthropicServer } from '../support/fake-anthropic-server.js';
import { tempDir } from '../support/kernel.js';

let anthropic: FakeAnthropicServer;
let runtime: Runtime;
let dir: string;
let cleanup: () => void;

beforeEach(async () => {
  anthropic = await FakeAnthropicServer.start();
  ({ dir, cleanup } = tempDir());
  runtime = await Runtime.open({
    dataDir: dir,
    env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: anthropic.baseUrl },
  });
});
afterEach(async () => {
  await runtime.close();
  await anthropic.close();
  cleanup();
});

describe('skills in the runtime', () => {
  it('adds the catalog to the system prompt of every agent holding skill_read, children included, and of no other', async () => {
    anthropic.fallback = anthropicText('ok');
    const reader = await runtime.spawnAgent({
      yaml: 'name: reader\nmodel: claude-test\nsystem_prompt: base prompt\ncapabilities:\n  - "tool: skill_read"\n',
    });
    await runtime.runAgent(reader.id, 'hi');
    const plain = await runtime.spawnAgent({ yaml: 'name: plain\nmodel: claude-test\nsystem_prompt: base prompt\n' });
    await runtime.runAgent(plain.id, 'hi');
    const [withSkills, without] = anthropic.requests.map((r) => r.body.system as string);
    expect(withSkills).toContain('base prompt');
    expect(withSkills).toContain('## Skills');
    expect(withSkills).toContain('- summarizing-files:');
    expect(without).toBe('base prompt');

    // a child spawned by a scripted parent gets the catalog too
    writeFileSync(
      join(dir, 'parent.yaml'),
      [
        '- tool_calls:',
        '    - name: spawn_agent',
        '      input:',
        '        manifest: |',
        '          name: child',
        '          model: claude-test',
        '          capabilities:',
        '            - "tool: skill_read"',
        '        message: hello child',
        '- text: done',
      ].join('\n'),
    );
    const parent = await runtime.spawnAgent({
      yaml: `name: parent\nmodel: scripted:${join(dir, 'parent.yaml')}\ncapabilities:\n  - "tool: spawn_agent"\n  - "tool: skill_read"\n  - "spawn_child: [child]"\n`,
    });
    await runtime.runAgent(parent.id, 'go');
    expect(anthropic.requests.at(-1)!.body.system).toContain('- summarizing-files:');
  });

  it("enforces an active skill's allowed-tools for the rest of the run, on top of capabilities", async () => {
    writeFileSync(
      join(dir, 'script.yaml'),
      [
        'cursor: per_run',
        'turns:',
        '  - tool_calls: [{ name: skill_read, input: { skill_name: summarizing-files } }]',
        '  - tool_calls: [{ name: echo, input: { message: "outside the skill" } }]',
        '  - text: "echo said: {last_tool_result}"',
      ].join('\n'),
    );
    const agent = await runtime.spawnAgent({
      yaml: `name: focused\nmodel: scripted:${join(dir, 'script.yaml')}\ncapabilities:\n  - "tool: skill_read"\n  - "tool: echo"\n`,
    });
    const out = await runtime.runAgent(agent.id, 'summarise');
    expect(out.response).toMatch(/AAOS_ERR_SKILL_TOOL_NOT_ALLOWED/);
    expect(out.response).toMatch(/summarizing-files/);
    const activated = runtime.events.recent((e) => e.type === 'SkillActivated');
    expect(activated).toHaveLength(1);
    // a new run starts with no active skill
    expect(await runtime.invokeTool(agent.id, 'echo', { message: 'fine again' })).toEqual({
      message: 'fine again',
    });
  });
});
