export { AgentManifest } from './schema.js';
export {
  formatGrant,
  parseCapabilityEntry,
  parseCapabilityString,
  parseHost,
  parsePathGlob,
} from './capability-string.js';
export { loadManifestFile, parseManifest } from './parse.js';
export { expandCapabilities } from './expand.js';
export { formatManifestError } from './format-error.js';
export type { ManifestIssue } from './issue.js';
export { closestMatch, didYouMean, levenshtein } from './suggest.js';
