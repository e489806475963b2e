import { describe, expect, it } from 'vitest';
import { RemoteError, type DaemonClient } from '../../src/cli/client.js';
import { resolveTarget } from '../../src/cli/target.js';
import { ErrorCode } from '../../src/errors/index.js';

/** Answers agent.status and run.status from two tables, as the daemon would (prefixes included). */
function daemonWith(
  agents: Array<{ id: string; name: string }>,
  runs: Array<{ run_id: string; state: string }>,
): DaemonClient {
  const missing = (code: string): RemoteError => new RemoteError(-32001, 'not found', code, { code });
  const call = async (method: string, params: Record<string, string>): Promise<unknown> => {
    if (method === 'agent.status') {
      const ref = params['agent_id']!;
      const hit =
        agents.find((a) => a.id === ref || a.name === ref) ??
        agents.find((a) => ref.length >= 4 && a.id.startsWith(ref));
      if (!hit) throw missing('AAOS_ERR_AGENT_NOT_FOUND');
      return hit;
    }
    const ref = params['run_id']!;
    const hit = runs.find((r) => r.run_id === ref) ?? runs.find((r) => ref.length >= 4 && r.run_id.startsWith(ref));
    if (!hit) throw missing('AAOS_ERR_RUN_NOT_FOUND');
    return hit;
  };
  return { call } as unknown as DaemonClient;
}

describe('status, stop and logs: an agent or a run', () => {
  const client = daemonWith(
    [{ id: 'abcd1111-agent', name: 'writer' }],
    [
      { run_id: 'abcd2222-run', state: 'completed' },
      { run_id: 'ef00-run', state: 'running' },
    ],
  );

  it('a prefix that fits an agent and a run picks neither and lists both', async () => {
    await expect(resolveTarget(client, 'abcd')).rejects.toMatchObject({
      code: ErrorCode.ID_AMBIGUOUS,
      message:
        "prefix 'abcd' matches an agent and a run: agent abcd1111-agent (writer), run abcd2222-run (completed); give more of the id",
    });
  });

  it('a longer prefix, a full id or a name decides', async () => {
    expect(await resolveTarget(client, 'abcd1')).toMatchObject({ agent: { id: 'abcd1111-agent' } });
    expect(await resolveTarget(client, 'abcd2')).toMatchObject({ run: { run_id: 'abcd2222-run' } });
    expect(await resolveTarget(client, 'writer')).toMatchObject({ agent: { id: 'abcd1111-agent' } });
    expect(await resolveTarget(client, 'ef00-run')).toMatchObject({ run: { run_id: 'ef00-run' } });
  });

  it('neither: RUN_NOT_FOUND naming what was looked for', async () => {
    await expect(resolveTarget(client, 'zzzz')).rejects.toMatchObject({
      code: ErrorCode.RUN_NOT_FOUND,
      message: "no agent or run with id, name or id prefix 'zzzz'",
    });
  });
});
