import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import type { RunResult, SupervisorToWorker, WorkerToSupervisor } from '../protocol/index.js';
import { isPortBatch, type PortBatch } from '../protocol/port-batch.js';
import type { ModelResponse } from '../providers/model.js';
import type { AgentModule } from './agent-module.js';
import { WorkerHost } from './worker-host.js';

/** A turn that calls a tool, then one that answers: the shapes a real run moves over its port. */
const TOOL_TURN: ModelResponse = {
  content: [
    { type: 'text', text: 'calling' },
    { type: 'tool_use', id: 'w1', name: 'warm', input: { text: 'warm up' } },
  ],
  stop_reason: 'tool_use',
  usage: { input_tokens: 1, output_tokens: 1 },
  model: 'warmup',
};
const ANSWER: ModelResponse = {
  content: [{ type: 'text', text: 'done' }],
  stop_reason: 'end_turn',
  usage: { input_tokens: 1, output_tokens: 1 },
  model: 'warmup',
};

/** A stand-in module: one model turn with a tool call, the tool, the answer. Never the hosted module. */
const stub: AgentModule = {
  init() {},
  async handle(delivery, api): Promise<RunResult> {
    const runId = delivery.run.run_id;
    await api.complete(runId, [{ role: 'user', content: 'warm up' }]);
    const out = await api.callTool(runId, 'warm', { text: 'warm up' }, undefined, 'w1');
    await api.complete(runId, [
      { role: 'tool_result', tool_use_id: 'w1', content: JSON.stringify(out), is_error: false },
    ]);
    return { run_id: runId, response: 'done', stop_reason: 'complete', iterations: 2, transcript: [], error: null };
  },
};

/**
 * A pre-started worker's first real run used to pay for the port path cold: the host's code,
 * Node's message-port and structured-clone internals, loaded and compiled on first use. This
 * drives a WorkerHost with a stand-in module over a channel inside the worker, playing the
 * supervisor's side with the real protocol messages, so that cost is paid in the pool. The
 * hosted module and its state are not touched (its own `warmup` is separate).
 */
export async function warmHostPath(runs = 8): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const host = new WorkerHost(port1, stub);
  try {
    host.start();
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      const deliver = (id: number): void => {
        const msg: SupervisorToWorker = {
          t: 'deliver',
          id,
          delivery: {
            envelope: '{"jsonrpc":"2.0","id":"w","method":"agent.run","params":{"message":"warm up"}}',
            run: { run_id: `warm-${id}`, history: [] },
          },
          ...(id === 1 ? { init: { agent_id: 'warmup', name: 'warmup', max_iterations: 4 } } : {}),
        };
        port2.postMessage(msg);
      };
      const answer = (msg: WorkerToSupervisor): void => {
        switch (msg.t) {
          case 'model':
            port2.postMessage({
              t: 'res',
              id: msg.id,
              ok: true,
              value: msg.append.length > 0 && msg.append[0]?.role === 'tool_result' ? ANSWER : TOOL_TURN,
            });
            return;
          case 'tool':
            port2.postMessage({ t: 'res', id: msg.id, ok: true, value: { text: 'warm up' } });
            return;
          case 'res':
            if (!msg.ok) {
              reject(new Error('host warm-up run failed'));
              return;
            }
            if (++done === runs) resolve();
            else deliver(done + 1);
            return;
          case 'init_failed':
            reject(new Error('host warm-up init failed'));
            return;
          default:
            return;
        }
      };
      // the host batches what it posts in one turn, as it does for the supervisor
      port2.on('message', (msg: WorkerToSupervisor | PortBatch<WorkerToSupervisor>) => {
        if (!isPortBatch(msg)) answer(msg);
        else for (const one of msg.msgs) answer(one);
      });
      deliver(1);
    });
  } finally {
    // closing is asynchronous: wait, so a lent worker holds nothing of the warm-up
    const closed = Promise.all([once(port1, 'close'), once(port2, 'close')]);
    port1.close();
    await closed;
  }
}
