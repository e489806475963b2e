import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { COMMAND_AGENT, tempDir } from '../support/kernel.js';

describe('audit sinks', () => {
  it('writes every event as NDJSON to a stream and to AAOS_AUDIT_FILE, and keeps it durable for after a restart', async () => {
    const { dir, cleanup } = tempDir();
    const file = join(dir, 'audit.ndjson');
    const stream = new PassThrough();
    let streamed = '';
    stream.on('data', (d: Buffer) => (streamed += d.toString()));
    let runtime = await Runtime.open({ dataDir: dir, env: { AAOS_AUDIT_FILE: file }, auditStream: stream });
    const seen: string[] = [];
    runtime.events.subscribe((e) => seen.push(e.type));
    const agent = await runtime.spawnAgent({ yaml: 'name: probe\nmodel: fixture\n' }, { module: COMMAND_AGENT });
    await runtime.runAgent(agent.id, 'echo hello');
    await runtime.close();

    const fromFile = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id: string; ts: string; agent_id: string });
    const fromStream = streamed
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(fromFile.map((e) => e.type)).toEqual(seen);
    expect(fromStream.map((e) => e.type)).toEqual(seen);
    expect(seen).toEqual(
      expect.arrayContaining([
        'AgentSpawned',
        'AgentExecutionStarted',
        'AgentExecutionCompleted',
        'AgentStopped',
        'RuntimeStopping',
      ]),
    );
    for (const e of fromFile)
      expect(e).toMatchObject({ id: expect.any(String), ts: expect.any(String), agent_id: expect.any(String) });

    runtime = await Runtime.open({ dataDir: dir, env: {} });
    expect(runtime.auditHistory({ agentId: agent.id }).map((e) => e.type)).toEqual(
      fromFile.filter((e) => e.agent_id === agent.id).map((e) => e.type),
    );
    await runtime.close();
    cleanup();
  });
});
