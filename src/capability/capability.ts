import { z } from 'zod';

/**
 * A capability is what a manifest grants, after parsing. Paths are absolute globs
 * where only a trailing `/*` (or `/**`, same meaning: the directory and everything
 * below it) is a wildcard; a bare `*` means "anything" for the list kinds.
 */
export const Capability = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file_read'), glob: z.string() }),
  z.object({ kind: z.literal('file_write'), glob: z.string() }),
  z.object({ kind: z.literal('network'), hosts: z.array(z.string()) }),
  z.object({ kind: z.literal('tool'), name: z.string() }),
  z.object({ kind: z.literal('spawn_child'), agents: z.array(z.string()) }),
  z.object({ kind: z.literal('message_send'), targets: z.array(z.string()) }),
]);
export type Capability = z.infer<typeof Capability>;

/** Limits attached to a token. Narrowing keeps the tightest of parent and child. */
export const Constraints = z.object({
  max_invocations: z.number().int().positive().optional(),
  /** epoch milliseconds */
  expires_at: z.number().int().positive().optional(),
});
export type Constraints = z.infer<typeof Constraints>;

/** A capability as declared for one agent: what, plus its constraints. */
export interface CapabilityGrant {
  capability: Capability;
  constraints: Constraints;
}

/** What a caller asks to do; checked against the agent's tokens. */
export type CapabilityRequest =
  | { kind: 'file_read'; path: string }
  | { kind: 'file_write'; path: string }
  | { kind: 'network'; host: string }
  | { kind: 'tool'; name: string }
  | { kind: 'spawn_child'; name: string }
  /** id and name of the recipient: a grant may name either */
  | { kind: 'message_send'; targetId: string; targetName: string };

/** Human-readable manifest form of a capability, e.g. `file_read: /data/*`. */
export function formatCapability(cap: Capability): string {
  switch (cap.kind) {
    case 'file_read':
    case 'file_write':
      return `${cap.kind}: ${cap.glob}`;
    case 'network':
      return `network: ${cap.hosts.join(', ')}`;
    case 'tool':
      return `tool: ${cap.name}`;
    case 'spawn_child':
      return `spawn_child: [${cap.agents.join(', ')}]`;
    case 'message_send':
      return `message_send: [${cap.targets.join(', ')}]`;
  }
}

export function formatRequest(req: CapabilityRequest): string {
  switch (req.kind) {
    case 'file_read':
    case 'file_write':
      return `${req.kind}: ${req.path}`;
    case 'network':
      return `network: ${req.host}`;
    case 'tool':
      return `tool: ${req.name}`;
    case 'spawn_child':
      return `spawn_child: ${req.name}`;
    case 'message_send':
      return `message_send: ${req.targetName} (${req.targetId})`;
  }
}

/** A deep copy, so a token never shares arrays with a manifest or a caller. */
export function copyCapability(cap: Capability): Capability {
  switch (cap.kind) {
    case 'file_read':
    case 'file_write':
      return { kind: cap.kind, glob: cap.glob };
    case 'network':
      return { kind: cap.kind, hosts: [...cap.hosts] };
    case 'tool':
      return { kind: cap.kind, name: cap.name };
    case 'spawn_child':
      return { kind: cap.kind, agents: [...cap.agents] };
    case 'message_send':
      return { kind: cap.kind, targets: [...cap.targets] };
  }
}
