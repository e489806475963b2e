import { afterEach, describe, expect, it } from 'vitest';
import { warmHostPath } from '../../src/agent/host-warmup.js';
import type { SupervisorToWorker, WorkerToSupervisor } from '../../src/protocol/index.js';
import { WorkerLauncher } from '../../src/kernel/worker-launcher.js';
import { COMMAND_AGENT, waitFor } from '../support/kernel.js';

const openPorts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

let launcher: WorkerLauncher | undefined;
afterEach(async () => {
  await launcher?.close();
  launcher = undefined;
});

describe('host warm-up', () => {
  it('runs the port protocol to the end and leaves no port open', async () => {
    const before = openPorts();
    await warmHostPath(5);
    expect(openPorts()).toBe(before);
  });

  it('never calls the hosted module: a warm worker answers its first real delivery with one init and one handle', async () => {
    launcher = new WorkerLauncher(2, 0);
    launcher.prewarm(COMMAND_AGENT, 64, 1);
    await waitFor(() => launcher?.warmCount === 1, 60_000, 'the pool to fill');
    const w = await launcher.acquire({ module: COMMAND_AGENT, maxHeapMb: 64, name: 'warm-check' });
    const answer = new Promise<WorkerToSupervisor>((resolve) =>
      w.port.on('message', (m: WorkerToSupervisor) => {
        if (m.t === 'res') resolve(m);
      }),
    );
    const deliver: SupervisorToWorker = {
      t: 'deliver',
      id: 1,
      init: { agent_id: 'a1', name: 'real', max_iterations: 4 },
      delivery: {
        envelope: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.run', params: { message: 'calls' } }),
        run: { run_id: 'r1', history: [] },
      },
    };
    w.port.postMessage(deliver);
    const res = await answer;
    expect(res).toMatchObject({ t: 'res', id: 1, ok: true });
    const value = (res as { value: { response: string } }).value;
    expect(JSON.parse(value.response)).toEqual({ init: 1, handle: 1 });
    w.port.close();
    w.controlPort.close();
    await launcher.terminate(w.worker);
  });
});
