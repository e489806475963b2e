/**
 * The one generic worker entry (built to dist/workers/entry.js). Like piscina's
 * bootstrap: the module to host arrives in a startup message together with a
 * dedicated MessagePort; once the module is loaded we answer READY on that port.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { exposeControl } from '../src/agent/control.js';
import { WorkerHost } from '../src/agent/worker-host.js';
import { warmHostPath } from '../src/agent/host-warmup.js';
import type { AgentModule } from '../src/agent/agent-module.js';
import { toPlainError } from '../src/errors/aaos-error.js';
import type { StartMessage, WorkerToParent } from '../src/protocol/index.js';

if (!parentPort) throw new Error('workers/entry.js must run inside a worker thread');
const parent = parentPort;

parent.once('message', (msg: StartMessage) => {
  void (async () => {
    try {
      if (msg?.t !== 'start' || typeof msg.module !== 'string' || !msg.port) {
        throw new Error(`expected a start message with a module and a port, got ${JSON.stringify(msg?.t)}`);
      }
      const loaded = (await import(msg.module)) as { agentModule?: AgentModule };
      const mod = loaded.agentModule;
      if (!mod || typeof mod.init !== 'function' || typeof mod.handle !== 'function') {
        throw new Error(`module ${msg.module} does not export an agentModule with init() and handle()`);
      }
      // agents yield the CPU to the supervisor under contention: it serves every agent's
      // requests, so when a hundred workers are runnable it must not get a 1/101 share
      if (msg.nice && process.platform === 'linux') {
        try {
          setPriority(0, msg.nice);
        } catch {
          // not fatal: the thread keeps the default priority
        }
      }
      if (msg.warm) {
        await mod.warmup?.();
        await warmHostPath();
      }
      const host = new WorkerHost(msg.port, mod);
      exposeControl(msg.control, () => host.activeDeliveries);
      host.start();
    } catch (err) {
      parent.postMessage({ t: 'start_failed', error: toPlainError(err) } satisfies WorkerToParent);
    }
  })();
});
