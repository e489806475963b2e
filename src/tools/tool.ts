import { z } from 'zod';
import type { CallContext } from '../audit/call-context.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import type { CapabilityRequest } from '../capability/capability.js';
import type { ToolDefinition, Usage } from '../providers/model.js';

/** Result of running a child agent to completion (spawn_agent, spawn_agents). */
export interface ChildRunResult {
  agent_id: string;
  name: string;
  response: string;
  stop_reason: string;
  iterations: number;
  usage: Usage;
  error: string | null;
  /** the AAOS_ERR_* code of `error`, when there is one */
  error_code?: string;
  /** spawn_agent ran the child again after its first run ended in error */
  retried?: boolean;
  /** the first run's error, when it was retried */
  original_error?: string;
}

/**
 * Services the supervisor lends a tool for one call. A tool never sees a token:
 * `authorize` checks (and charges) the calling agent's own capabilities and throws
 * an AaosError with a CAPABILITY_* code when denied.
 */
export interface ToolContext {
  /** this tool call: its agent, goal run, delivery and span (messages and spawns it makes are its children) */
  call: CallContext;
  workspace: string | undefined;
  dataDir: string;
  signal: AbortSignal;
  authorize(request: CapabilityRequest): void;
  /**
   * Re-checks, without charging, every token this call has used so far (its `tool:` token
   * and each `authorize`d resource): call it after any wait and before a side effect.
   * Throws CAPABILITY_REVOKED / _EXPIRED when one ended meanwhile.
   */
  recheck?(): void;
  /**
   * spawn a child of the calling agent from manifest YAML, run it on `message`, stop it;
   * `onSpawned` is called with its id once it exists (before it runs)
   */
  spawnAndRun(manifestYaml: string, message: string, onSpawned?: (agentId: string) => void): Promise<ChildRunResult>;
}

export interface Tool {
  readonly definition: ToolDefinition;
  /**
   * Running it twice has the effect of running it once (reads, lookups). A resumed run makes
   * such a call again when a restart cut it off; any other call is reported as interrupted.
   */
  readonly idempotent: boolean;
  /** validates raw input (throws TOOL_INPUT_INVALID naming the field), then runs */
  invoke(rawInput: unknown, ctx: ToolContext): Promise<unknown>;
}

export interface ToolSpec<S extends z.ZodType> {
  name: string;
  description: string;
  input: S;
  /** default false: only reads and lookups are idempotent, writes and messages are not */
  idempotent?: boolean;
  run(input: z.output<S>, ctx: ToolContext): Promise<unknown>;
}

/** One way to build a tool: the zod schema is both the validator and the JSON schema the model sees. */
export function defineTool<S extends z.ZodType>(spec: ToolSpec<S>): Tool {
  const jsonSchema = z.toJSONSchema(spec.input, { io: 'input' }) as Record<string, unknown>;
  delete jsonSchema['$schema'];
  return {
    definition: { name: spec.name, description: spec.description, input_schema: jsonSchema },
    idempotent: spec.idempotent ?? false,
    async invoke(rawInput, ctx) {
      const parsed = spec.input.safeParse(rawInput ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(input)';
        throw new AaosError(
          ErrorCode.TOOL_INPUT_INVALID,
          `invalid input for tool '${spec.name}': ${field}: ${issue?.message ?? 'invalid'}`,
          {
            tool: spec.name,
            field,
            issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
          },
        );
      }
      return spec.run(parsed.data, ctx);
    },
  };
}
