import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AaosError, ErrorCode } from '../errors/index.js';

/**
 * Worker threads always load built JavaScript. When this module runs from dist/ the
 * target sits beside it; when it runs from the TypeScript sources (vitest), we point
 * at the same file under the project's dist/ — which is why `npm test` builds first.
 */
const here = dirname(fileURLToPath(import.meta.url));

function projectRoot(): string {
  // here = <root>/src/config or <root>/dist/src/config
  const parts = here.split(sep);
  const distIdx = parts.lastIndexOf('dist');
  if (distIdx >= 0 && parts[distIdx + 1] === 'src') return parts.slice(0, distIdx).join(sep) || sep;
  return resolve(here, '..', '..');
}

export const PROJECT_ROOT = projectRoot();

/** Absolute path of a built file, given its path relative to the project root (e.g. `workers/entry.js`). */
export function builtPath(relativeToRoot: string): string {
  const file = join(PROJECT_ROOT, 'dist', relativeToRoot);
  if (!existsSync(file)) {
    throw new AaosError(
      ErrorCode.WORKER_START_FAILED,
      `built file ${file} is missing: run \`npm run build\` first (workers load compiled JavaScript from dist/)`,
      { file },
    );
  }
  return file;
}
