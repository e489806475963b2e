import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir, type DaemonProcess, type RawClient } from '../daemon/daemon-process.js';
import { auditEvents, daemonWith, manifest, script, spawnAndRun, toolThenReport } from './attacker.js';

/**
 * A model asks spawn_agent for a child whose manifest reaches for more than the parent has
 * through fields other than files: placeholders that name the daemon's own directories, a
 * persistent lifecycle (to outlive the parent's run, or come back after a restart with
 * root grants), and a per-capability `max_invocations` larger than the parent's pool.
 */
describe('a child manifest cannot widen authority through its other fields', () => {
  let dir: string;
  let daemon: DaemonProcess;
  let client: RawClient;

  beforeAll(async () => {
    dir = tempDataDir();
    writeFileSync(join(dir, 'inbox', 'child.yaml'), '- text: "child ran"\n');
    ({ daemon, client } = await daemonWith(dir));
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    removeDir(dir);
  });

  async function spawnChild(
    name: string,
    child: Record<string, unknown>,
    parentCaps: Array<string | Record<string, unknown>> = [],
  ): Promise<{ response: string; agent_id: string }> {
    const turns = toolThenReport([
      {
        name: 'spawn_agent',
        input: {
          manifest: stringify({
            name: 'child',
            model: `scripted:${join(dir, 'inbox', 'child.yaml')}`,
            system_prompt: 'x',
            ...child,
          }),
          message: 'go',
        },
      },
    ]);
    const parent = manifest(name, script(dir, name, turns), [
      'tool: spawn_agent',
      `file_read: ${dir}/inbox/*`,
      'spawn_child: [*]',
      ...parentCaps,
    ]);
    return spawnAndRun(client, parent);
  }

  it("{data_dir} in a child capability names the daemon's store, and is refused unless the parent holds it", async () => {
    const { response } = await spawnChild('f-datadir', {
      capabilities: ['tool: file_read', 'file_read: {data_dir}/*'],
    });
    expect(response).toContain('AAOS_ERR_CAPABILITY');
    expect(response).toContain(`${dir}/*`);
    expect(response).not.toContain('child ran');
  }, 60_000);

  it("a child asking for lifecycle: persistent is still stopped with its parent's call and not restored later", async () => {
    const { response } = await spawnChild('f-persistent', { lifecycle: 'persistent' });
    expect(response).toContain('child ran');
    const agents = await client.call<{ agents: Array<{ name: string }> }>('agent.list', {});
    expect(agents.agents.map((a) => a.name)).not.toContain('child');
    // the operator's store of persistent agents (restored at start) never learns of it
    const stored = auditEvents(dir).filter((e) => e.type === 'AgentSpawned' && e.agent_name === 'child');
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((e) => e['parent_id'] !== undefined)).toBe(true);
  }, 60_000);

  it("a child max_invocations above the parent's pool does not add uses", async () => {
    const childTurns = toolThenReport([
      { name: 'echo', input: { text: 'one' } },
      { name: 'echo', input: { text: 'two' } },
      { name: 'echo', input: { text: 'three' } },
    ]);
    writeFileSync(join(dir, 'inbox', 'echoer.yaml'), stringify({ cursor: 'per_run', turns: childTurns }));
    const { response } = await spawnChild(
      'f-pool',
      {
        model: `scripted:${join(dir, 'inbox', 'echoer.yaml')}`,
        capabilities: [{ capability: 'tool: echo', max_invocations: 1000 }],
      },
      [{ capability: 'tool: echo', max_invocations: 1 }],
    );
    // the parent's pool of one: the child's second and third echo are refused
    expect(response).toContain('AAOS_ERR_CAPABILITY');
    expect(response).not.toContain('three');
  }, 60_000);
});
