import { auditHeader } from '../../audit/call-context.js';
import { AaosError, ErrorCode, isAaosError } from '../../errors/index.js';
import { sleep } from '../../providers/sleep.js';
import type { AgentActor } from '../actor.js';
import type { LiveAgent } from '../agent-table.js';
import { AgentState, isTerminal } from '../lifecycle.js';
import { RestartHistory } from '../restart-policy.js';
import type { SupervisorCore } from './core.js';
import { startWorker } from './worker-start.js';

/**
 * Parking and reactivation of persistent agents: an idle one gives up its worker and keeps
 * its state; its next message starts a new worker. A persistent agent whose worker died
 * restarts the same way, after a backoff, within its restart limits.
 */
export class Parking {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly restarts = new Map<string, RestartHistory>();

  constructor(private readonly core: SupervisorCore) {}

  /** After a delivery of a persistent agent: park it once it has been idle for `parkIdleMs`. */
  schedule(rec: LiveAgent): void {
    const idleMs = this.core.opts.parkIdleMs ?? 0;
    if (idleMs <= 0) return;
    clearTimeout(this.timers.get(rec.id));
    const timer = setTimeout(() => {
      this.timers.delete(rec.id);
      const a = rec.actor;
      if (a.state !== AgentState.Running || a.busy > 0 || a.queued > 0 || this.core.shuttingDown) return;
      void a.park().then(() => this.core.emit({ type: 'AgentParked', ...auditHeader(rec.identity), idle_ms: idleMs }));
    }, idleMs);
    timer.unref();
    this.timers.set(rec.id, timer);
  }

  /** A message for a parked agent: a new worker, after the restart backoff when its last one died. */
  async reactivate(rec: LiveAgent): Promise<void> {
    const actor = rec.actor;
    actor.unpark();
    const waitMs = Math.max(0, (this.restarts.get(rec.id)?.notBefore ?? 0) - Date.now());
    const reason = this.restarts.has(rec.id)
      ? `restart after its worker failed (backoff ${waitMs} ms left)`
      : 'message for a parked agent';
    this.core.emit({ type: 'AgentReactivated', ...auditHeader(rec.identity), reason });
    try {
      if (waitMs > 0) await sleep(waitMs);
      await startWorker(this.core, rec);
    } catch (err) {
      // a worker that cannot start counts as a failure of the agent (and towards its restart limit)
      if (!isTerminal(actor.state) && actor.state !== AgentState.Stopping) {
        actor.fail(
          isAaosError(err)
            ? err
            : new AaosError(ErrorCode.WORKER_START_FAILED, `agent ${rec.name} (${rec.id}): ${String(err)}`),
        );
      }
      throw err;
    }
  }

  /**
   * A persistent agent whose worker died keeps its identity, capabilities and history: it
   * gets a fresh (parked) actor and restarts on its next message after a backoff. Too many
   * failures in the window park it as failed instead. Returns false when the agent must retire.
   */
  restartLater(rec: LiveAgent, failed: AgentActor, reason: string): boolean {
    if (rec.manifest.lifecycle !== 'persistent' || this.core.shuttingDown || rec.actor !== failed) return false;
    const limits = this.core.restartLimits;
    let history = this.restarts.get(rec.id);
    if (!history) {
      history = new RestartHistory(limits);
      this.restarts.set(rec.id, history);
    }
    const decision = history.fail(Date.now());
    const { windowMs, maxFailures } = limits;
    if (!decision.restart) {
      const err = new AaosError(
        ErrorCode.AGENT_RESTART_LIMIT,
        `agent ${rec.name} (${rec.id}) is parked as failed: its worker died ${decision.failures} times within ${windowMs} ms (AAOS_RESTART_MAX=${maxFailures}); last failure: ${reason}`,
        { agent_id: rec.id, failures: decision.failures, window_ms: windowMs },
      );
      failed.failure = err;
      this.core.emit({ type: 'AgentFailed', ...auditHeader(rec.identity), reason: err.message, code: err.code });
      return false;
    }
    this.cancelTimer(rec.id);
    rec.actor = this.core.newActor(rec.id, rec.name, failed.concurrencyLimit, true);
    this.core.emit({
      type: 'AgentRestartPending',
      ...auditHeader(rec.identity),
      failures: decision.failures,
      window_ms: windowMs,
      delay_ms: decision.delayMs,
      reason,
    });
    return true;
  }

  /** The agent retires: its restart history goes. */
  forget(agentId: string): void {
    this.restarts.delete(agentId);
  }

  cancelTimer(agentId: string): void {
    clearTimeout(this.timers.get(agentId));
    this.timers.delete(agentId);
  }
}
