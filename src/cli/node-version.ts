/** The oldest Node.js major this runtime supports; package.json `engines.node` says the same. */
export const MIN_NODE_MAJOR = 20;

/** A message saying why this Node.js cannot run agentd, or undefined when it can. */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return `agentd needs Node.js ${MIN_NODE_MAJOR} or newer (worker resource limits, ESM workers, fetch); this is Node.js ${version}`;
}
