import { z } from 'zod';
import { parseContextWindow } from '../context/context-window.js';
import { Capability, Constraints } from '../capability/capability.js';

/**
 * Two layers: the *input* schemas validate what a YAML manifest may contain (strict
 * objects, so a typo is an error rather than a silently ignored field), and the
 * *output* schemas describe the normalised `AgentManifest` handed to the supervisor
 * (defaults filled, capabilities parsed, system prompt read, model path resolved).
 */

export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const AGENT_NAME_RULE =
  "must be 1-64 characters: letters, digits, '_', '.', '-', starting with a letter or digit";

/** Tool names as the registry spells them; `.`/`:`/`-` leave room for namespaced (MCP) tools. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const TOOL_NAME_RULE = "must be a tool name: letters, digits, '_', '.', ':', '-'";

export const AgentName = z.string().regex(AGENT_NAME_PATTERN, { error: AGENT_NAME_RULE });
export type AgentName = z.infer<typeof AgentName>;

const Lifecycle = z.enum(['on-demand', 'persistent']);

const BudgetConfig = z.strictObject({
  max_tokens: z.int().positive(),
  /** 0 = the budget never resets */
  reset_period_seconds: z.int().min(0).default(3600),
});

const Limits = z.strictObject({
  /** worker heap cap (resourceLimits.maxOldGenerationSizeMb) */
  max_heap_mb: z.int().min(16).max(4096).default(64),
  /** model turns per run before the agent loop stops */
  max_iterations: z.int().min(1).max(1000).default(50),
});

/** `context_window` as written: "128k", "50000" or 50000; checked with parseContextWindow by the parser. */
const ContextWindowInput = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  try {
    parseContextWindow(value);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `'${String(value).trim()}' is not a token count: use a whole number, or a whole number with a k suffix (e.g. 128k)`,
    });
  }
});

const MemoryInput = z.strictObject({
  context_window: ContextWindowInput.default('128k'),
  max_history_messages: z.int().min(2).default(100),
  summarization_model: z.string().trim().min(1).optional(),
  summarization_threshold: z.number().gt(0).lt(1).default(0.7),
  archive_ttl_days: z.int().min(0).optional(),
  episodic_enabled: z.boolean().default(false),
  episodic_max_records: z.int().positive().default(10_000),
  episodic_max_content_bytes: z.int().positive().default(4096),
});

export const SystemPromptInput = z.union([z.string(), z.strictObject({ file: z.string().trim().min(1) })]);
export type SystemPromptInput = z.infer<typeof SystemPromptInput>;

/** The manifest document as written. Capability entries are parsed separately (capability-string.ts). */
export const ManifestInput = z.strictObject({
  name: AgentName,
  model: z.string().trim().min(1),
  system_prompt: SystemPromptInput.optional(),
  capabilities: z.array(z.unknown()).default([]),
  lifecycle: Lifecycle.default('on-demand'),
  approval_required: z.array(z.string().regex(TOOL_NAME_PATTERN, { error: TOOL_NAME_RULE })).default([]),
  // prefault, not default: an absent block is parsed as {} so its own defaults apply
  memory: MemoryInput.prefault({}),
  budget_config: BudgetConfig.optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
  limits: Limits.prefault({}),
});
export type ManifestInput = z.infer<typeof ManifestInput>;

/** Known keys per mapping (by dotted field path), for "did you mean" hints on unknown keys. */
export const KNOWN_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(ManifestInput.shape),
  memory: Object.keys(MemoryInput.shape),
  limits: Object.keys(Limits.shape),
  budget_config: Object.keys(BudgetConfig.shape),
  system_prompt: ['file'],
};

/** One parsed capability entry: the grant (placeholders still unexpanded) and where it came from. */
export const ManifestCapability = z.object({
  /** the entry as written, for display, e.g. `file_read: /data/*` */
  source: z.string(),
  /** 1-based position of the entry in the manifest; absent when parsed outside a manifest */
  line: z.int().positive().optional(),
  column: z.int().positive().optional(),
  grant: z.object({ capability: Capability, constraints: Constraints }),
  /** turned into `constraints.expires_at` when the agent is spawned */
  expires_in_seconds: z.int().positive().optional(),
});
export type ManifestCapability = z.infer<typeof ManifestCapability>;

const MemoryConfig = z.object({
  /** as written, e.g. "128k" */
  context_window: z.string(),
  /** parsed token count ("128k" = 131072) */
  context_window_tokens: z.int().positive(),
  max_history_messages: z.int().min(2),
  summarization_model: z.string().optional(),
  summarization_threshold: z.number().gt(0).lt(1),
  archive_ttl_days: z.int().min(0).optional(),
  episodic_enabled: z.boolean(),
  episodic_max_records: z.int().positive(),
  episodic_max_content_bytes: z.int().positive(),
});

const ManifestSource = z.object({
  /** the file as named by the caller, or `<inline>` */
  file: z.string(),
  /** absolute directory that relative paths in the manifest resolve against */
  base_dir: z.string(),
});

/** The parsed, defaults-filled, normalised manifest. Plain data: safe to post to a worker. */
export const AgentManifest = z.object({
  name: AgentName,
  /** `scripted:` models carry an absolute path */
  model: z.string().min(1),
  /** the prompt text; read from the file for `system_prompt: {file}`; empty when absent */
  system_prompt: z.string(),
  /** absolute path the prompt was read from, when it came from a file */
  system_prompt_file: z.string().optional(),
  capabilities: z.array(ManifestCapability),
  lifecycle: Lifecycle,
  approval_required: z.array(z.string()),
  memory: MemoryConfig,
  budget_config: BudgetConfig.optional(),
  metadata: z.record(z.string(), z.unknown()),
  limits: Limits,
  source: ManifestSource,
});
export type AgentManifest = z.infer<typeof AgentManifest>;
