export {
  AGENT_NAME_PATTERN,
  AgentManifest,
  AgentName,
  BudgetConfig,
  ContextWindowInput,
  KNOWN_FIELDS,
  Lifecycle,
  Limits,
  ManifestCapability,
  ManifestInput,
  ManifestSource,
  MemoryConfig,
  MemoryInput,
  SystemPromptInput,
  TOOL_NAME_PATTERN,
} from './schema.js';
export {
  CAPABILITY_KINDS,
  PATH_PLACEHOLDERS,
  formatGrant,
  leadingPlaceholder,
  parseCapabilityEntry,
  parseCapabilityString,
  parseHost,
  parsePathGlob,
} from './capability-string.js';
export type { ManifestCapabilityKind, PathPlaceholder } from './capability-string.js';
export { INLINE_MANIFEST, MAX_MANIFEST_BYTES, MAX_PROMPT_BYTES, loadManifestFile, manifestFiles, parseManifest } from './parse.js';
export type { ManifestFileCheck, ParseManifestOptions } from './parse.js';
export { expandCapabilities } from './expand.js';
export type { ExpandVars } from './expand.js';
export { formatManifestError } from './format-error.js';
export { formatIssue, isManifestIssue } from './issue.js';
export type { ManifestIssue } from './issue.js';
export { closestMatch, didYouMean, levenshtein } from './suggest.js';
