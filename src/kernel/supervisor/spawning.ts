import type { CapabilityGrant } from '../../capability/capability.js';
import { randomUUID } from 'node:crypto';
import { auditHeader, childCall, traceParentOf, type CallContext } from '../../audit/call-context.js';
import { AaosError, ErrorCode, isAaosError } from '../../errors/index.js';
import { expandCapabilities } from '../../manifest/expand.js';
import { parseManifest } from '../../manifest/parse.js';
import type { AgentManifest } from '../../manifest/schema.js';
import type { ChildRunResult } from '../../tools/tool.js';
import type { TraceParent } from '../../audit/trace-ids.js';
import type { AgentInfo, LiveAgent } from '../agent-table.js';
import { inheritApprovals } from '../inherited-approvals.js';
import { ManifestCache } from '../manifest-cache.js';
import type { RemoteSpawn } from '../remote-agents.js';
import type { ToolCall } from '../tool-dispatch.js';
import { DEFAULT_AGENT_MODULE } from '../worker-launcher.js';
import type { SupervisorCore } from './core.js';
import type { Deliveries } from './delivery.js';
import type { Lifecycle } from './lifecycle.js';
import type { ChildRunOptions, SpawnOptions } from './options.js';
import { cancelledBeforeStart, startWorker } from './worker-start.js';

/**
 * Spawning: an agent comes to exist with its capabilities (a child's narrowed to its parent)
 * and a worker; the one child path (`runChild`) spawns, runs and stops a child.
 */
export class Spawning {
  private readonly manifests = new ManifestCache();

  constructor(
    private readonly core: SupervisorCore,
    private readonly lifecycle: Lifecycle,
    private readonly deliveries: Deliveries,
  ) {}

  /** Spawn an agent from a parsed manifest or manifest YAML. Children are narrowed to their parent. */
  async spawn(manifestOrYaml: AgentManifest | string, options: SpawnOptions = {}): Promise<AgentInfo> {
    const rec = await this.spawnRecord(manifestOrYaml, options);
    return this.core.info(rec);
  }

  async spawnRecord(manifestOrYaml: AgentManifest | string, options: SpawnOptions): Promise<LiveAgent> {
    if (this.core.shuttingDown)
      throw new AaosError(ErrorCode.SHUTTING_DOWN, 'the supervisor is shutting down and spawns nothing new');
    const parsed =
      typeof manifestOrYaml === 'string' ? parseManifest(manifestOrYaml, { file: '<inline>' }) : manifestOrYaml;
    if (options.parked && parsed.lifecycle !== 'persistent') {
      throw new AaosError(
        ErrorCode.MANIFEST_INVALID,
        `agent ${parsed.name}: only a persistent agent can be registered parked (its lifecycle is ${parsed.lifecycle})`,
        { name: parsed.name },
      );
    }
    const parent = options.parentId ? this.core.agents.require(options.parentId) : undefined;
    const adopted = options.adopted;
    // a child cannot do without a human what its parent needed a human for
    const manifest = parent ? inheritApprovals(parsed, parent.manifest) : parsed;
    const depth = parent ? parent.depth + 1 : (adopted?.depth ?? 0);
    const release = this.core.agents.reserve(manifest.name, depth);
    const id = options.id ?? randomUUID();
    const parentId = parent?.id ?? adopted?.parentId;
    const identity: CallContext = {
      id,
      name: manifest.name,
      ...(parentId ? { parentId } : {}),
      ...(options.runId ? { runId: options.runId } : {}),
    };
    // a spawn from a tool call is a hop in the caller's trace
    const spawnSpan = options.trace ? childCall({ ...identity, trace: options.trace }).trace : undefined;
    let rec: LiveAgent | undefined;
    try {
      const grants = expandCapabilities(
        manifest,
        { data_dir: this.core.dataDir, ...(options.workspace ? { workspace: options.workspace } : {}) },
        Date.now(),
      );
      // denials of a delegation belong to the goal run the child was spawned for
      if (parent) this.core.capabilities.delegate(this.parentCall(parent, options), identity, grants);
      // narrowed on the parent's node: issued as they came, each under the token it was narrowed to there
      else if (adopted)
        for (const t of adopted.tokens)
          this.core.capabilities.issue(identity, { capability: t.capability, constraints: t.constraints }, t.id);
      else {
        for (const g of grants) this.core.capabilities.issue(identity, g);
        if (manifest.lifecycle === 'persistent') this.core.capabilities.restoreDurable(id);
      }

      const actor = this.core.newActor(id, manifest.name, options.concurrency ?? 1, options.parked === true);
      rec = {
        id,
        name: manifest.name,
        manifest,
        parentId,
        depth,
        createdAt: new Date().toISOString(),
        actor,
        module: options.module ?? DEFAULT_AGENT_MODULE(),
        runId: options.runId,
        workspace: options.workspace,
        identity,
        children: new Set(),
      };
      this.core.agents.add(rec);
      release();
      parent?.children.add(id);
      this.core.emit({
        type: 'AgentSpawned',
        ...auditHeader({ ...identity, ...(spawnSpan ? { trace: spawnSpan } : {}) }),
        manifest_name: manifest.name,
        model: manifest.model,
        depth,
        lifecycle: manifest.lifecycle,
      });
      this.core.opts.models.registerAgent(identity, manifest.budget_config);
      if (!options.parked) await startWorker(this.core, rec, options.signal);
      return rec;
    } catch (err) {
      release();
      if (rec) {
        await this.lifecycle.retire(rec, isAaosError(err) ? err.message : String(err), 'failed');
      } else {
        this.core.capabilities.revokeAll(id, 'spawn failed');
        this.core.capabilities.forget(id);
      }
      throw err;
    }
  }

  /**
   * spawn_agent: parse the child's manifest, then the one child path (`runChild`). A child
   * whose run ended in error (a model or API failure, not a wrong answer) is run again as a
   * new agent with the same manifest and message, up to `spawnRetries` times.
   */
  async spawnChildAndRun(
    parent: LiveAgent,
    call: ToolCall,
    manifestYaml: string,
    message: string,
    inCall: CallContext,
    onSpawned?: (agentId: string) => void,
  ): Promise<ChildRunResult> {
    // a cancelled run spawns nothing more (siblings of a spawn_agents batch reach here one by one)
    if (call.signal.aborted) throw cancelledBeforeStart(parent, call.signal.reason);
    const trace = traceParentOf(inCall);
    // every file the manifest names is read with the parent's authority (or from a prompts root)
    const manifest = this.manifests.parse(
      manifestYaml,
      `<spawn_agent from ${parent.name}>`,
      parent.manifest.source.base_dir,
      this.core.manifestFiles.checkFor(inCall, call.name),
    );
    const options: ChildRunOptions = {
      via: call.name,
      ...(trace ? { trace } : {}),
      signal: call.signal,
      runId: call.from.runId,
      ...(onSpawned ? { onSpawned } : {}),
      ...(call.workspace ? { workspace: call.workspace } : {}),
    };
    let result = await this.runChild(parent.id, manifest, message, options);
    const retries = this.core.opts.spawnRetries ?? 1;
    let originalError: string | undefined;
    for (let attempt = 1; attempt <= retries && result.stop_reason === 'error' && !call.signal.aborted; attempt++) {
      originalError ??= result.error ?? 'error';
      this.core.emit({
        type: 'ChildRetried',
        ...auditHeader(inCall),
        child_name: manifest.name,
        attempt,
        original_error: result.error ?? 'error',
      });
      result = await this.runChild(parent.id, manifest, message, options);
    }
    return originalError === undefined ? result : { ...result, retried: true, original_error: originalError };
  }

  /**
   * The one way a child comes to exist with authority: spawn_child is checked against the
   * parent, every capability is narrowed to a parent token, the child runs `message` and is
   * stopped when it answers. spawn_agent and plan subtasks both come through here.
   */
  async runChild(
    parentId: string,
    manifest: AgentManifest,
    message: string,
    options: ChildRunOptions,
  ): Promise<ChildRunResult> {
    const parent = this.core.agents.require(parentId);
    this.core.capabilities.authorize(
      this.parentCall(parent, options),
      { kind: 'spawn_child', name: manifest.name },
      { tool: options.via },
    );
    // cluster: placed on another node, narrowed here all the same
    const node = this.core.remote?.placeChild(manifest);
    if (node !== undefined) {
      const remote = this.remoteGrants(parent, manifest, options);
      // a max_invocations pool is charged on this node only: a child sharing one stays here
      if (!this.core.capabilities.sharesCountedPool(parent.id, remote.grants))
        return this.runRemoteChild(parent, remote, message, options, node);
    }
    const child = await this.spawnRecord(manifest, {
      // cancelled while waiting for a worker slot: the worker is never booted
      signal: options.signal,
      parentId: parent.id,
      ...(options.trace ? { trace: options.trace } : {}),
      ...(options.runId ? { runId: options.runId } : {}),
      ...(options.workspace ? { workspace: options.workspace } : {}),
    });
    options.onSpawned?.(child.id);
    return this.runAndStop(child, message, options);
  }

  /**
   * A child placed on another node: narrowed here exactly as a local child (its tokens stay
   * here under its id, so a revocation of the parent's token reaches them), then run there
   * with copies of those tokens.
   */
  /** A child's manifest with its parent's approvals, and the grants it asks for, as a local spawn expands them. */
  private remoteGrants(
    parent: LiveAgent,
    parsed: AgentManifest,
    options: ChildRunOptions,
  ): { manifest: AgentManifest; grants: CapabilityGrant[] } {
    const manifest = inheritApprovals(parsed, parent.manifest);
    const grants = expandCapabilities(
      manifest,
      { data_dir: this.core.dataDir, ...(options.workspace ? { workspace: options.workspace } : {}) },
      Date.now(),
    );
    return { manifest, grants };
  }

  private async runRemoteChild(
    parent: LiveAgent,
    { manifest, grants }: { manifest: AgentManifest; grants: CapabilityGrant[] },
    message: string,
    options: ChildRunOptions,
    node: string,
  ): Promise<ChildRunResult> {
    const child: CallContext = {
      id: randomUUID(),
      name: manifest.name,
      parentId: parent.id,
      ...(options.runId ? { runId: options.runId } : {}),
    };
    const tokens = this.core.capabilities.delegate(this.parentCall(parent, options), child, grants);
    options.onSpawned?.(child.id);
    const spawn: RemoteSpawn = {
      child,
      manifest,
      depth: parent.depth + 1,
      tokens,
      message,
      ...(options.trace ? { trace: options.trace } : {}),
      ...(options.workspace ? { workspace: options.workspace } : {}),
    };
    try {
      return await this.core.remote!.runChild(node, spawn, options.signal);
    } finally {
      this.core.capabilities.revokeAll(child.id, 'its run on another node ended');
      this.core.capabilities.forget(child.id);
    }
  }

  /** A child whose parent lives on another node: spawned here with the tokens narrowed there, run, stopped. */
  async runAdoptedChild(spawn: RemoteSpawn, signal: AbortSignal): Promise<ChildRunResult> {
    const options = {
      signal,
      via: 'spawn from another node',
      ...(spawn.trace ? { trace: spawn.trace } : {}),
      ...(spawn.workspace ? { workspace: spawn.workspace } : {}),
    };
    const child = await this.spawnRecord(spawn.manifest, {
      ...options,
      id: spawn.child.id,
      adopted: { parentId: spawn.child.parentId ?? '', depth: spawn.depth, tokens: spawn.tokens },
      ...(spawn.child.runId ? { runId: spawn.child.runId } : {}),
    });
    return this.runAndStop(child, spawn.message, options);
  }

  /** The parent as the caller of a spawn: in the child's goal run, in the span it is spawned from. */
  private parentCall(
    parent: LiveAgent,
    options: { runId?: string | undefined; trace?: TraceParent | undefined },
  ): CallContext {
    return {
      ...parent.identity,
      ...(options.runId ? { runId: options.runId } : {}),
      ...(options.trace ? { trace: options.trace } : {}),
    };
  }

  private async runAndStop(
    child: LiveAgent,
    message: string,
    options: Pick<ChildRunOptions, 'signal' | 'trace' | 'workspace'>,
  ): Promise<ChildRunResult> {
    try {
      // cancelled (or timed out) while the child's worker was starting: it runs nothing
      if (options.signal.aborted)
        throw new AaosError(ErrorCode.CANCELLED, `child ${child.name} was cancelled before it ran`, {
          agent_id: child.id,
        });
      const result = await this.deliveries.run(child.id, message, {
        signal: options.signal,
        ...(options.trace ? { trace: options.trace } : {}),
        ...(options.workspace ? { workspace: options.workspace } : {}),
      });
      return {
        agent_id: child.id,
        name: child.name,
        response: result.response,
        stop_reason: result.stop_reason,
        iterations: result.iterations,
        usage: result.usage,
        error: result.error ? `${result.error.code}: ${result.error.message}` : null,
        ...(result.error ? { error_code: result.error.code } : {}),
      };
    } finally {
      await this.lifecycle.stop(child.id, 'completed');
    }
  }
}
