import type { CallContext } from '../audit/call-context.js';
import type { TraceParent } from '../audit/trace-ids.js';
import type { AgentManifest } from '../manifest/schema.js';
import type { RunOutcome } from '../protocol/index.js';
import type { DeliveryContext } from '../router/router.js';
import type { ChildRunResult } from '../tools/tool.js';
import type { TokenView } from '../capability/capability-token.js';

/**
 * A child narrowed on its parent's node, to be run on another node: its tokens are the
 * narrowed ones, issued there exactly as they are (never widened or derived again).
 */
export interface RemoteSpawn {
  child: CallContext;
  /** the parsed manifest (approvals inherited from the parent already) */
  manifest: AgentManifest;
  depth: number;
  /** the child's narrowed tokens on the parent's node; each is the parent token of its copy on the other node */
  tokens: TokenView[];
  message: string;
  trace?: TraceParent;
  workspace?: string;
}

/**
 * The supervisor's door to agents on other nodes of a cluster (absent on a single node).
 * Placement, transport and trust live behind it (src/cluster/).
 */
export interface RemoteAgentsPort {
  /** the node a child with this manifest should run on; undefined: this node */
  placeChild(manifest: AgentManifest): string | undefined;
  /** runs the child on `node` and resolves with its result (an error result when that node is lost) */
  runChild(node: string, spawn: RemoteSpawn, signal: AbortSignal): Promise<ChildRunResult>;
  /** a live agent on another node, by id or the name of exactly one agent */
  resolve(ref: string): CallContext | undefined;
  /** hands a routed envelope, authorised here, to the recipient's node */
  deliver(recipient: CallContext, envelopeText: string, context: DeliveryContext): Promise<RunOutcome>;
  cancel(recipient: CallContext, runId: string, envelopeText: string, reason: string): void;
}
