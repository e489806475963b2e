import { auditHeader } from '../../audit/call-context.js';
import { AaosError, ErrorCode } from '../../errors/index.js';
import type { AgentActor } from '../actor.js';
import type { LiveAgent } from '../agent-table.js';
import { AgentState } from '../lifecycle.js';
import type { SupervisorCore } from './core.js';
import type { Parking } from './parking.js';

/** How agents end: stop (and its subtree), failure (restart or retire), pause, resume, shutdown. */
export class Lifecycle {
  constructor(
    private readonly core: SupervisorCore,
    private readonly parking: Parking,
  ) {}

  pause(agentId: string): void {
    this.core.agents.require(agentId).actor.pause();
  }

  resume(agentId: string): void {
    this.core.agents.require(agentId).actor.resume();
  }

  /** Stop an agent and its subtree; revokes its tokens. Idempotent for live ids. */
  async stop(agentId: string, reason = 'user_requested'): Promise<void> {
    const rec = this.core.agents.get(agentId);
    if (!rec) return;
    await this.retire(rec, reason, 'stopped');
  }

  async retire(rec: LiveAgent, reason: string, how: 'stopped' | 'failed'): Promise<void> {
    const { core } = this;
    for (const childId of [...rec.children]) await this.stop(childId, `parent ${rec.name} ${how}: ${reason}`);
    for (const state of core.conversations.ofAgent(rec.id))
      state.controller.abort(new AaosError(ErrorCode.AGENT_STOPPED, reason));
    core.router.cancelFrom(rec.id, undefined, `agent ${rec.name} ${how}: ${reason}`);
    core.opts.models.cancelAgent(rec.id);
    this.parking.cancelTimer(rec.id);
    const from = rec.actor.state;
    if (how === 'stopped') await rec.actor.stop(reason);
    core.capabilities.revokeAll(rec.id, how === 'stopped' ? `agent stopped: ${reason}` : `agent failed: ${reason}`);
    core.capabilities.forget(rec.id);
    core.opts.models.releaseAgent(rec.id);
    core.opts.skills?.endAgent(rec.id);
    core.opts.history?.release(rec.id);
    this.parking.forget(rec.id);
    const info = core.info(rec);
    core.agents.remove(rec.id);
    core.remember(info);
    if (how === 'stopped') core.emit({ type: 'AgentStopped', ...auditHeader(rec.identity), reason, from });
  }

  /**
   * The actor's hook: audits the change; a failed worker restarts its agent (persistent) or
   * retires it. Starting → running is the spawn (AgentSpawned), and a stop's steps are its
   * AgentStopped (which names the state it stopped from): neither is a separate event.
   */
  onStateChange(actor: AgentActor, from: AgentState, to: AgentState, reason: string): void {
    const rec = this.core.agents.get(actor.id);
    if (!rec) return;
    const partOfStop = to === AgentState.Stopping || (from === AgentState.Stopping && to === AgentState.Stopped);
    if (from !== to && !(from === 'starting' && to === 'running') && !partOfStop) {
      this.core.emit({ type: 'AgentStateChanged', ...auditHeader(rec.identity), from, to });
    }
    if (to === AgentState.Failed) {
      this.core.emit({
        type: 'AgentFailed',
        ...auditHeader(rec.identity),
        reason,
        code: actor.failure?.code ?? ErrorCode.AGENT_FAILED,
      });
      if (!this.parking.restartLater(rec, actor, reason))
        void this.retire(rec, actor.failure?.message ?? reason, 'failed');
    }
  }

  /** Refuse new work, stop every agent, roots first (terminations are serialised), close the launcher. */
  async shutdown(reason = 'shutdown'): Promise<void> {
    const { core } = this;
    if (core.shuttingDown) return;
    core.shuttingDown = true;
    const roots = core.agents.all().filter((r) => !r.parentId || !core.agents.get(r.parentId));
    for (const rec of roots) await this.stop(rec.id, reason);
    for (const rec of core.agents.all()) await this.stop(rec.id, reason);
    await core.launcher.close();
  }
}
